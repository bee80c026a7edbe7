/**
 * Plans and applies pending migrations under the migration lock: name order, respecting
 * `dependsOn`, refusing out-of-order migrations and edited history, stopping at `--to`. A squash
 * runs on a database that has none of the migrations it replaces, and is recorded without running
 * once they are all applied (see stream/replaces.ts).
 */
import { CONFIG_FILE, type TributaryConfig } from '../config/config.ts';
import type { Database, PinnedSession } from '../db/connection.ts';
import { invalidIndexes } from '../db/invalid-indexes.ts';
import { History } from '../db/history.ts';
import { withMigrationLock } from '../db/lock.ts';
import { TributaryError } from '../errors.ts';
import { MigrationGraph } from '../stream/graph.ts';
import { loadMigration, refuseUnknownServices, type MigrationDefinition } from '../stream/migration-file.ts';
import { RECORDED_SQUASH, replacedBy, resolveDependencies } from '../stream/replaces.ts';
import { findEntry, readStream, type StreamEntry } from '../stream/stream.ts';
import { dryRun } from './dry-run.ts';
import { assertIntegrity } from './integrity.ts';
import { refuseLintErrors } from './preflight.ts';
import { refuseNonTransactional, runAtomicBatch } from './atomic-batch.ts';
import { pipelinable, runPipelined } from './pipeline.ts';
import { checkDuration } from './run-options.ts';
import { runMigration } from './runner.ts';
import { type CollectedSql } from './sql-reader.ts';
import { compareStreamWithHistory } from './status.ts';

export interface MigrateOptions {
  services?: string[];
  /** Stop after this migration (name, with or without `.ts`); `head` means all. */
  to?: string;
  dryRun?: boolean;
  fake?: boolean;
  allowOutOfOrder?: boolean;
  lockWaitSeconds?: number;
  lockRetries?: number;
  lockTimeout?: string;
  statementTimeout?: string;
  /** Apply the whole batch in one transaction: all or nothing (no non-transactional migrations). */
  atomic?: boolean;
  /** Dump the database to `.data/backups/` before applying (default: config `backupBeforeMigrate`). */
  backup?: boolean;
  /** Apply migrations whose destructive lint errors (drop table/column, narrowing) the file does not acknowledge. */
  allowDestructive?: boolean;
  /** Once aborted, no further migration starts (the running one finishes, or those sent together in one round trip): a fan-out run stopping after a failure elsewhere. */
  stop?: AbortSignal;
}

export interface MigrateEvents {
  waitingForLock?: () => void;
  planned?: (names: string[]) => void;
  /** Called with what will be applied (or recorded), before anything is; throwing cancels the run. */
  confirm?: (names: string[]) => Promise<void>;
  applying?: (name: string, index: number, total: number) => void;
  applied?: (name: string, ms: number) => void;
  /** A statement of `name` starts (where statements go one by one). */
  statement?: (name: string, sql: string) => void;
  retrying?: (name: string, attempt: number, error: string) => void;
  dryRun?: (name: string, sql: CollectedSql) => void;
  backedUp?: (file: string) => void;
}

export interface MigrateResult {
  applied: Array<{ name: string; service: string; ms: number }>;
  /** True when another runner held the lock first (it then usually left nothing to do). */
  waitedForLock: boolean;
  dryRun: boolean;
  /** The backup written before applying, if any. */
  backup?: string;
  /** How many planned migrations were left unapplied because `stop` was aborted. */
  stoppedBefore?: number;
}

/** What a dry run shows for a squash recorded without running. */
const RECORD_ONLY: CollectedSql = { statements: [`-- ${RECORDED_SQUASH};`], directQueries: [] };

export async function migrate(db: Database, config: TributaryConfig, options: MigrateOptions = {}, events: MigrateEvents = {}): Promise<MigrateResult> {
  // Bad durations fail before anything runs, not at the first migration.
  options = {
    ...options,
    lockTimeout: checkDuration(options.lockTimeout ?? config.lockTimeout, options.lockTimeout !== undefined ? '--lock-timeout' : `lockTimeout in ${CONFIG_FILE}`),
    statementTimeout: (options.statementTimeout ?? config.statementTimeout) === undefined ? undefined : checkDuration((options.statementTimeout ?? config.statementTimeout)!, options.statementTimeout !== undefined ? '--statement-timeout' : `statementTimeout in ${CONFIG_FILE}`),
  };
  const history = new History(db, config);
  if (options.dryRun) {
    const plan = await planPending(config, history, options, db.session);
    for (const definition of plan) events.dryRun?.(definition.entry.name, definition.recordOnly ? RECORD_ONLY : await dryRun(db, definition, 'up'));
    return { applied: [], waitedForLock: false, dryRun: true };
  }
  const lock = { waitSeconds: options.lockWaitSeconds ?? config.lockWaitSeconds, onWait: events.waitingForLock };
  return withMigrationLock(db, history.tableName, lock, async (waitedForLock, held) => {
    await history.ensureTable();
    const plan = await planPending(config, history, options, db.session);
    if (plan.length > 0) await events.confirm?.(plan.map((d) => d.entry.name));
    events.planned?.(plan.map((d) => d.entry.name));
    if (options.atomic) refuseNonTransactional(plan, config.root);
    const recorded = plan.find((d) => d.recordOnly);
    if (options.atomic && recorded) throw new TributaryError(`migrate --atomic cannot record squash ${recorded.entry.name} (the migrations it replaces are applied): run migrate without --atomic.`);
    if (!options.fake) await refuseLintErrors(plan, config.root, options.allowDestructive);
    const applied: MigrateResult['applied'] = [];
    let backup: string | undefined;
    if (plan.length > 0 && !options.fake && (options.backup ?? config.backupBeforeMigrate)) {
      backup = await (await import('../db/backup.ts')).backupDatabase(db, config);
      events.backedUp?.(backup);
    }
    const runOptions = (definition: MigrationDefinition) => ({
      root: config.root,
      fake: options.fake || definition.recordOnly,
      lockTimeout: options.lockTimeout ?? config.lockTimeout,
      statementTimeout: options.statementTimeout ?? config.statementTimeout,
      lockRetries: options.lockRetries ?? config.lockRetries,
      onRetry: (attempt: number, error: string) => events.retrying?.(definition.entry.name, attempt, error),
      onStatement: events.statement && ((sql: string) => events.statement!(definition.entry.name, sql)),
      prove: held.prove,
      proofSql: held.proofSql,
    });
    if (options.atomic && plan.length > 0) {
      await runAtomicBatch(db, history, plan, { ...runOptions(plan[0]!), onRetry: (attempt, error) => events.retrying?.('the atomic batch', attempt, error) }, {
        applying: (definition, index) => events.applying?.(`${definition.entry.name} (one transaction for all)`, index, plan.length),
        applied: (definition, ms) => {
          applied.push({ name: definition.entry.name, service: definition.entry.service, ms });
          events.applied?.(definition.entry.name, ms);
        },
      });
      return { applied, waitedForLock, dryRun: false, backup };
    }
    const done = (definition: MigrationDefinition, ms: number) => {
      applied.push({ name: definition.entry.name, service: definition.entry.service, ms });
      events.applied?.(definition.entry.name, ms);
    };
    const position = new Map(plan.map((d, i) => [d, i]));
    for (let index = 0; index < plan.length; ) {
      const stopped = { applied, waitedForLock, dryRun: false, backup };
      if (options.stop?.aborted) return { ...stopped, stoppedBefore: plan.length - index };
      // Consecutive migrations whose SQL is known up front share round trips (see runPipelined); one
      // alone goes the same way, so that applying generated migrations never loads MikroORM.
      let end = index;
      while (end < plan.length && pipelinable(db, plan[end]!, runOptions(plan[end]!))) end++;
      if (end > index) {
        const group = plan.slice(index, end);
        index += await runPipelined(db, history, group, runOptions, { applying: (d) => events.applying?.(d.entry.name, position.get(d)!, plan.length), applied: done, stop: options.stop });
        continue; // stopped, or planned again
      }
      const definition = plan[index]!;
      events.applying?.(definition.entry.name, index, plan.length);
      done(definition, await runMigration(db, history, definition, 'up', runOptions(definition)));
      index++;
    }
    return { applied, waitedForLock, dryRun: false, backup };
  });
}

/** The pending migrations to apply, in the order to apply them. */
export async function planPending(config: TributaryConfig, history: History, options: MigrateOptions, session?: PinnedSession): Promise<MigrationDefinition[]> {
  const stream = readStream(config.migrationsDir);
  const status = compareStreamWithHistory(stream, await history.rows());
  assertIntegrity(status, config, status.failed.length > 0 && session ? await invalidIndexes(session) : []);

  assertNoCopies(status.pending);
  let targets: StreamEntry[] = status.pending;
  if (options.services?.length) targets = targets.filter((e) => options.services!.includes(e.service));
  if (options.to && options.to !== 'head') {
    const last = findEntry(stream, options.to, '--to');
    targets = targets.filter((e) => e.name <= last.name);
  }
  if (targets.length === 0) return [];

  const pendingByName = new Map(status.pending.map((e) => [e.name, e]));
  const definitions = new Map<string, MigrationDefinition>();
  const squashes = replacedBy(stream);
  const load = async (entry: StreamEntry) => {
    if (!definitions.has(entry.name)) {
      const definition = await loadMigration(entry, config.root);
      // A dependency on a replaced migration is one on its squash (Django's remapping).
      definition.dependsOn = resolveDependencies(definition.dependsOn, squashes);
      definition.recordOnly = status.recordOnly.has(entry.name);
      definitions.set(entry.name, definition);
    }
    return definitions.get(entry.name)!;
  };
  for (const entry of targets) await load(entry);
  // Pull in pending migrations that the targets need (another service's table, say) — and, since a
  // migration stands on its own service's earlier ones, that service's pending migrations before it.
  const queue = [...definitions.values()];
  while (queue.length > 0) {
    for (const dependency of queue.pop()!.dependsOn) {
      const entry = pendingByName.get(dependency);
      if (!entry) continue;
      for (const earlier of status.pending.filter((e) => e.service === entry.service && e.name <= entry.name)) {
        if (!definitions.has(earlier.name)) queue.push(await load(earlier));
      }
    }
  }
  refuseUnknownServices(config, [...definitions.values()].map((d) => d.entry));
  const graph = new MigrationGraph([...definitions.values()], new Set(stream.map((e) => e.name)), config.root);
  const order = graph.order(definitions.keys());

  const outOfOrder = status.outOfOrder.filter((e) => definitions.has(e.name));
  if (outOfOrder.length > 0 && !options.allowOutOfOrder) {
    const names = outOfOrder.map((e) => e.name).join(', ');
    throw new TributaryError(`Out of order: ${names} ${outOfOrder.length === 1 ? 'is' : 'are'} pending but ${outOfOrder[0]!.service} already has a later migration applied; review the order, then rerun with --allow-out-of-order.`);
  }
  return order.map((name) => definitions.get(name)!);
}

/** Two pending files with the same bytes are one migration under two names (a merge or copy gone wrong). */
function assertNoCopies(pending: StreamEntry[]): void {
  const byChecksum = new Map<string, StreamEntry>();
  for (const entry of pending) {
    const first = byChecksum.get(entry.checksum);
    if (first) throw new TributaryError(`Migrations ${first.name} and ${entry.name} are identical files (same checksum); one is a copy — delete it.`);
    byChecksum.set(entry.checksum, entry);
  }
}
