/**
 * Reverts applied migrations, newest applied first, under the migration lock. Refuses when a
 * migration that stays applied depends on one it would revert, or when one cannot be reverted.
 */
import { relative } from 'node:path';
import type { TributaryConfig } from '../config/config.ts';
import type { Database } from '../db/connection.ts';
import { History, type HistoryRow } from '../db/history.ts';
import { withMigrationLock } from '../db/lock.ts';
import { TributaryError } from '../errors.ts';
import { hasDown, loadMigration, type MigrationDefinition } from '../stream/migration-file.ts';
import { readStream } from '../stream/stream.ts';
import { assertIntegrity } from './integrity.ts';
import { collectSql, runMigration, type CollectedSql } from './runner.ts';
import { compareStreamWithHistory } from './status.ts';

export interface RollbackOptions {
  steps?: number;
  /** Revert everything applied after this migration; it stays applied. */
  to?: string;
  service?: string;
  dryRun?: boolean;
  lockWaitSeconds?: number;
  lockTimeout?: string;
}

export interface RollbackEvents {
  reverting?: (name: string, index: number, total: number) => void;
  reverted?: (name: string, ms: number) => void;
  dryRun?: (name: string, sql: CollectedSql) => void;
}

export async function rollback(db: Database, config: TributaryConfig, options: RollbackOptions, events: RollbackEvents = {}): Promise<{ reverted: string[] }> {
  const steps = options.steps ?? 1;
  if (!Number.isInteger(steps) || steps < 1) throw new TributaryError(`rollback -s needs a whole number of at least 1 (got ${options.steps}).`);
  const history = new History(db, config);
  const run = async () => {
    const plan = await planRollback(config, history, { ...options, steps });
    if (options.dryRun) {
      for (const definition of plan) events.dryRun?.(definition.entry.name, await collectSql(db, definition, 'down'));
      return { reverted: [] };
    }
    for (const [index, definition] of plan.entries()) {
      events.reverting?.(definition.entry.name, index, plan.length);
      const ms = await runMigration(db, history, definition, 'down', { root: config.root, lockTimeout: options.lockTimeout ?? config.lockTimeout, statementTimeout: config.statementTimeout, lockRetries: 0 });
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
  const candidates = status.applied.filter((row) => !options.service || row.service === options.service);

  let revert: HistoryRow[];
  if (options.to) {
    const name = options.to.replace(/\.ts$/, '');
    const index = status.applied.findIndex((row) => row.name === name);
    if (index < 0) throw new TributaryError(`rollback --to ${name}: that migration is not applied.`);
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
    if (!hasDown(definition)) {
      throw new TributaryError(`Migration ${relative(config.root, definition.entry.file)} is irreversible (no down()), so it cannot be rolled back.`);
    }
    definitions.push(definition);
  }

  const reverting = new Set(revert.map((row) => row.name));
  for (const row of status.applied) {
    if (reverting.has(row.name)) continue;
    const entry = byName.get(row.name)!;
    const dependent = await loadMigration(entry, config.root);
    const needed = dependent.dependsOn.find((d) => reverting.has(d));
    if (needed) {
      throw new TributaryError(`Cannot roll back ${needed}: applied migration ${row.name} (${row.service}) depends on it; roll that back first or include it.`);
    }
  }
  return definitions;
}
