/**
 * Reverts applied migrations, newest applied first, under the migration lock. Refuses, before
 * reverting anything, when a migration that stays applied depends on one it would revert, or when
 * one cannot be reverted: declared irreversible, no down(), or a down() that does nothing (unless
 * the file declares `static emptyDown = true`).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { TributaryConfig } from '../config/config.ts';
import type { Database } from '../db/connection.ts';
import { History, type HistoryRow } from '../db/history.ts';
import { withMigrationLock, type HeldLock } from '../db/lock.ts';
import { TributaryError } from '../errors.ts';
import { hasDown, loadMigration, type MigrationDefinition } from '../stream/migration-file.ts';
import { replacedBy, resolveDependencies } from '../stream/replaces.ts';
import { findEntry, readStream } from '../stream/stream.ts';
import { dryRun } from './dry-run.ts';
import { assertIntegrity } from './integrity.ts';
import { runMigration } from './runner.ts';
import { collectSql, sqlReader, type CollectedSql } from './sql-reader.ts';
import { compareStreamWithHistory } from './status.ts';

export interface RollbackOptions {
  steps?: number;
  /** Revert everything applied after this migration; it stays applied. */
  to?: string;
  service?: string;
  dryRun?: boolean;
  /** Un-record without running down() (recovering from a mistaken `migrate --fake`, say). */
  fake?: boolean;
  lockWaitSeconds?: number;
  lockTimeout?: string;
}

export interface RollbackEvents {
  reverting?: (name: string, index: number, total: number) => void;
  reverted?: (name: string, ms: number) => void;
  dryRun?: (name: string, sql: CollectedSql) => void;
  /** Called with what would be reverted, before anything is; throwing cancels the rollback. */
  confirm?: (names: string[]) => Promise<void>;
}

export async function rollback(db: Database, config: TributaryConfig, options: RollbackOptions, events: RollbackEvents = {}): Promise<{ reverted: string[] }> {
  const steps = options.steps ?? 1;
  if (!Number.isInteger(steps) || steps < 1) throw new TributaryError(`rollback -s needs a whole number of at least 1 (got ${options.steps}).`);
  const history = new History(db, config);
  const run = async (_waited?: boolean, held?: HeldLock) => {
    const plan = await planRollback(config, history, { ...options, steps });
    if (options.dryRun) {
      for (const definition of plan) events.dryRun?.(definition.entry.name, await dryRun(db, definition, 'down'));
      return { reverted: [] };
    }
    if (plan.length > 0) await events.confirm?.(plan.map((d) => d.entry.name));
    for (const [index, definition] of plan.entries()) {
      events.reverting?.(definition.entry.name, index, plan.length);
      const ms = await runMigration(db, history, definition, 'down', { root: config.root, lockTimeout: options.lockTimeout ?? config.lockTimeout, statementTimeout: config.statementTimeout, lockRetries: 0, prove: held?.prove, fake: options.fake });
      // A squash goes with the migrations it replaces (applied before it was recorded): none stays recorded.
      for (const name of definition.entry.replaces ?? []) await history.remove(name);
      events.reverted?.(definition.entry.name, ms);
    }
    return { reverted: plan.map((d) => d.entry.name) };
  };
  if (options.dryRun) return run();
  return withMigrationLock(db, history.tableName, { waitSeconds: options.lockWaitSeconds ?? config.lockWaitSeconds }, run);
}

async function planRollback(config: TributaryConfig, history: History, options: RollbackOptions & { steps: number }): Promise<MigrationDefinition[]> {
  const stream = readStream(config.migrationsDir);
  const status = compareStreamWithHistory(stream, await history.rows());
  assertIntegrity(status, config);
  // Migrations an applied squash stands for are reverted with it, not on their own.
  const candidates = status.applied.filter((row) => !status.represented.has(row.name) && (!options.service || row.service === options.service));

  let revert: HistoryRow[];
  if (options.to) {
    const name = options.to.replace(/\.ts$/, '');
    const index = status.applied.findIndex((row) => row.name === name);
    if (index < 0) {
      findEntry(stream, name, 'rollback --to'); // a name the stream does not hold is told as such
      throw new TributaryError(`rollback --to ${name}: that migration is in the stream but not applied; name an applied one (\`migrate showmigrations\` lists them).`);
    }
    const after = new Set(status.applied.slice(index + 1).map((row) => row.name));
    revert = candidates.filter((row) => after.has(row.name)).reverse();
  } else {
    revert = candidates.slice(-options.steps).reverse();
  }
  if (revert.length === 0) return [];

  const byName = new Map(stream.map((e) => [e.name, e]));
  const definitions: MigrationDefinition[] = [];
  for (const row of revert) {
    const definition = await loadMigration(byName.get(row.name)!, config.root);
    // Un-recording runs nothing, so even an irreversible migration may be un-recorded.
    const refusal = options.fake ? undefined : await whyNotReversible(definition, config.root);
    if (refusal) throw new TributaryError(refusal);
    definitions.push(definition);
  }

  const reverting = new Set(revert.map((row) => row.name));
  // dependsOn names migrations literally (a replaced one stands for its squash): a file that mentions none of them depends on none.
  const mentioned = revert.flatMap((row) => [row.name, ...(byName.get(row.name)?.replaces ?? [])]);
  const squashes = replacedBy(stream);
  for (const row of status.applied) {
    if (reverting.has(row.name) || status.represented.has(row.name)) continue;
    const entry = byName.get(row.name)!;
    const source = readFileSync(entry.file, 'utf8');
    if (!mentioned.some((name) => source.includes(name))) continue;
    const dependent = await loadMigration(entry, config.root);
    const needed = resolveDependencies(dependent.dependsOn, squashes).find((d) => reverting.has(d));
    if (needed) {
      throw new TributaryError(`Cannot roll back ${needed}: applied migration ${row.name} (${row.service}) depends on it; roll that back first or include it.`);
    }
  }
  return definitions;
}

/** Why rollback must not revert this migration, as one sentence naming the file; undefined when it may. */
async function whyNotReversible(definition: MigrationDefinition, root: string): Promise<string | undefined> {
  const file = relative(root, definition.entry.file);
  if (definition.irreversible) {
    return `Migration ${file} declares static irreversible = true (PostgreSQL cannot undo its change), so it cannot be rolled back; undo it with a new migration, or restore a backup.`;
  }
  if (!definition.sql && !hasDown(definition)) { // a generated file always has one
    return `Migration ${file} has no down(), so it cannot be rolled back; write a down() that undoes up() (an empty one with static emptyDown = true if there is nothing to undo).`;
  }
  if (definition.emptyDown || !(await downDoesNothing(definition))) return undefined;
  return `Migration ${file} has a down() that does nothing, so rolling it back would leave its change in place; write a down() that undoes up(), or declare static emptyDown = true if there is nothing to undo.`;
}

/** Runs down() in SQL-collection mode, without a database: no SQL collected and no query made means it does nothing. */
async function downDoesNothing(definition: MigrationDefinition): Promise<boolean> {
  if (definition.sql) return definition.sql.down.every((sql) => sql.trim() === ''); // a generated file: its SQL is known
  try {
    const sql = await collectSql(sqlReader(), definition, 'down');
    return sql.statements.length === 0 && sql.directQueries.length === 0;
  } catch {
    return false; // it reached for the database (through the entity manager, say): it does something
  }
}
