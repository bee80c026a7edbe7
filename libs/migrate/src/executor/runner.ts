/**
 * Runs one migration in one direction. A transactional migration's SQL and its history row
 * commit together, or not at all; a non-transactional one runs statement by statement on the
 * pinned session, outside any transaction, and is recorded as failed if a statement fails.
 */
import { relative } from 'node:path';
import type { Transaction } from '@mikro-orm/core';
import type { Migration } from '@mikro-orm/migrations';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../db/connection.ts';
import type { History } from '../db/history.ts';
import { invalidIndexes } from '../db/invalid-indexes.ts';
import { TributaryError, describeError } from '../errors.ts';
import type { MigrationDefinition } from '../stream/migration-file.ts';

export type Direction = 'up' | 'down';

export interface RunOptions {
  root: string;
  /** Record (or unrecord) without running the SQL. */
  fake?: boolean;
  lockTimeout: string;
  statementTimeout?: string;
  /** Extra attempts when a statement times out waiting for a lock. */
  lockRetries: number;
  onRetry?: (attempt: number, error: string) => void;
}

export interface CollectedSql {
  statements: string[];
  /** Queries the migration ran itself through `this.execute()`; a dry run cannot show their effect. */
  directQueries: string[];
}

const DURATION = /^\d+(\.\d+)?\s*(us|ms|s|min|h|d)?$/;

export function checkDuration(value: string, what: string): string {
  if (!DURATION.test(value.trim())) throw new TributaryError(`${what} "${value}" is not a duration like 5s, 500ms or 2min.`);
  return value.trim();
}

function instantiate(db: Database, definition: MigrationDefinition): Migration {
  const migration = new definition.migrationClass(db.driver as any, db.orm.config as any);
  migration.name = definition.entry.name;
  return migration;
}

function sqlText(query: unknown): string {
  if (typeof query === 'string') return query;
  const q = query as { sql?: string; toQuery?: () => { sql: string }; compile?: () => { sql: string } };
  return q.sql ?? q.compile?.().sql ?? String(query);
}

/** What a migration would run, without running it (dry run). */
export async function collectSql(db: Database, definition: MigrationDefinition, direction: Direction): Promise<CollectedSql> {
  const migration = instantiate(db, definition);
  const directQueries: string[] = [];
  migration.execute = async (sql: any) => {
    directQueries.push(sqlText(sql));
    return [];
  };
  await migration[direction]();
  return { statements: migration.getQueries().map(sqlText), directQueries };
}

function timeoutStatements(definition: MigrationDefinition, options: RunOptions): string[] {
  const file = relative(options.root, definition.entry.file);
  const lockTimeout = definition.lockTimeout !== undefined ? checkDuration(definition.lockTimeout, `static lockTimeout of ${file}`) : options.lockTimeout;
  const statementTimeout = definition.statementTimeout !== undefined ? checkDuration(definition.statementTimeout, `static statementTimeout of ${file}`) : options.statementTimeout;
  const timeouts = [`set lock_timeout = '${lockTimeout}'`];
  if (statementTimeout) timeouts.push(`set statement_timeout = '${statementTimeout}'`);
  return timeouts;
}

const deadClientChecks = new WeakMap<Database, Promise<string[]>>();

/**
 * On PostgreSQL 14+ (Linux), `client_connection_check_interval` makes the server notice a runner
 * that died (SIGKILL, lost host) in the middle of a long statement and roll its transaction back
 * at once, instead of finishing the statement first and holding its locks meanwhile.
 */
function deadClientCheck(db: Database): Promise<string[]> {
  if (db.kind !== 'postgresql') return Promise.resolve([]);
  let check = deadClientChecks.get(db);
  if (!check) {
    const setting = `set client_connection_check_interval = '1s'`;
    check = db.session.query(setting).then(() => [setting], () => []);
    deadClientChecks.set(db, check);
  }
  return check;
}

function isLockTimeout(error: unknown): boolean {
  for (let e: any = error; e; e = e.cause) if (e.code === '55P03') return true;
  return /lock timeout/i.test(describeError(error));
}

/** Runs `attempt` again (with back-off) while it fails on a lock timeout, up to `retries` times. */
async function withLockRetries<T>(retries: number, onRetry: RunOptions['onRetry'], attempt: () => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isLockTimeout(error) || n >= retries) throw error;
      onRetry?.(n + 1, describeError(error));
      await sleep(Math.min(1000 * 2 ** n, 10_000));
    }
  }
}

export async function runMigration(db: Database, history: History, definition: MigrationDefinition, direction: Direction, options: RunOptions): Promise<number> {
  const timeouts = [...timeoutStatements(definition, options), ...(await deadClientCheck(db))];
  // A failed non-transactional migration may have left work behind (an INVALID index): never retry it blindly.
  const retries = definition.transactional ? options.lockRetries : 0;
  return withLockRetries(retries, options.onRetry, async () => {
    const started = performance.now();
    if (definition.transactional) await runInTransaction(db, history, definition, direction, options, timeouts);
    else await runOutsideTransaction(db, history, definition, direction, options, timeouts);
    return performance.now() - started;
  });
}

export function refuseNonTransactional(definitions: MigrationDefinition[], root: string): void {
  const refused = definitions.find((d) => !d.transactional);
  if (refused) {
    throw new TributaryError(`Migration ${relative(root, refused.entry.file)} is non-transactional (static transactional = false), so it cannot run inside an --atomic batch; apply it on its own without --atomic.`);
  }
}

/**
 * Applies a whole batch in one transaction (`migrate --atomic`): every migration and its history
 * row commit together, or none does. Non-transactional migrations cannot take part.
 */
export async function runAtomicBatch(
  db: Database,
  history: History,
  definitions: MigrationDefinition[],
  options: RunOptions,
  events: { applying?: (definition: MigrationDefinition, index: number) => void; applied?: (definition: MigrationDefinition, ms: number) => void } = {},
): Promise<number[]> {
  refuseNonTransactional(definitions, options.root);
  const check = await deadClientCheck(db);
  return withLockRetries(options.lockRetries, options.onRetry, async () => {
    const durations: number[] = [];
    await db.connection.transactional(async (trx: Transaction) => {
      for (const [index, definition] of definitions.entries()) {
        events.applying?.(definition, index);
        const started = performance.now();
        await applyInside(db, history, definition, 'up', options, [...timeoutStatements(definition, options), ...check], trx);
        durations.push(performance.now() - started);
      }
    });
    definitions.forEach((d, i) => events.applied?.(d, durations[i]!)); // only once the batch committed
    return durations;
  });
}

async function runInTransaction(db: Database, history: History, definition: MigrationDefinition, direction: Direction, options: RunOptions, timeouts: string[]): Promise<void> {
  await db.connection.transactional((trx: Transaction) => applyInside(db, history, definition, direction, options, timeouts, trx));
}

/** One migration's SQL and its history row, inside the caller's transaction. */
async function applyInside(db: Database, history: History, definition: MigrationDefinition, direction: Direction, options: RunOptions, timeouts: string[], trx: Transaction): Promise<void> {
  const started = performance.now();
  const execute = (sql: unknown) => db.connection.execute(sql as any, [], 'run', trx);
  if (!options.fake) {
    const batchable = db.kind === 'postgresql' && !timeouts.some((t) => t.includes('statement_timeout'));
    const setup = timeouts.map((sql) => sql.replace(/^set /, 'set local '));
    await executeEach(db, batchable ? [...setup, `savepoint ${SAVEPOINT}`] : setup, execute);
    const migration = instantiate(db, definition);
    migration.setTransactionContext(trx);
    const ranDirectly = watchDirectQueries(migration);
    await invoke(migration, direction, definition, options.root);
    const queries = migration.getQueries().filter((q) => typeof q !== 'string' || q.trim() !== '');
    if (batchable && !ranDirectly() && queries.every((q) => typeof q === 'string')) {
      const record = history.recordSql(direction, definition.entry);
      if (await inOneRoundTrip(queries as string[], record, execute, definition, options.root)) return;
    }
    await executeAll(queries, execute, definition, options.root);
  }
  if (direction === 'up') await history.recordApplied(definition.entry, performance.now() - started, trx);
  else await history.remove(definition.entry.name, trx);
}

/** Runs settings one per round trip on PGlite (no multi-statement queries), together on PostgreSQL. */
async function executeEach(db: Database, statements: string[], execute: (sql: string) => Promise<unknown>): Promise<void> {
  if (db.kind === 'postgresql' && statements.length > 1) await execute(statements.join(';\n'));
  else for (const sql of statements) await execute(sql);
}

/** Whether up()/down() ran queries itself (`this.execute`, `this.getEntityManager()`). */
function watchDirectQueries(migration: Migration): () => boolean {
  let used = false;
  const execute = migration.execute.bind(migration);
  const entityManager = migration.getEntityManager.bind(migration);
  migration.execute = (...args: Parameters<Migration['execute']>) => ((used = true), execute(...args));
  migration.getEntityManager = () => ((used = true), entityManager());
  return () => used;
}

const SAVEPOINT = 'tributary_statements';

/**
 * On PostgreSQL, a migration whose SQL is plain strings goes to the server in one round trip with
 * its history row (as fast as `psql`). If anything in it fails, the transaction returns to the
 * savepoint taken with the settings, and the caller replays the statements one by one so that the
 * error names the failing statement. Not used with a statement_timeout (it would then cover the
 * whole batch) nor when up() ran queries itself (a replay would not repeat them).
 */
async function inOneRoundTrip(queries: string[], record: string, execute: (sql: string) => Promise<unknown>, definition: MigrationDefinition, root: string): Promise<boolean> {
  try {
    // `\n;\n`: a statement ending in a `-- comment` must not swallow the separator.
    await execute([...queries, record].join('\n;\n'));
    return true;
  } catch (error) {
    try {
      await execute(`rollback to savepoint ${SAVEPOINT}`);
    } catch {
      // The session is gone (server restart, failover): no statement can be named.
      throw new TributaryError(`Migration ${relative(root, definition.entry.file)} failed: ${describeError(error)}`, { cause: error });
    }
    return false;
  }
}

async function runOutsideTransaction(db: Database, history: History, definition: MigrationDefinition, direction: Direction, options: RunOptions, timeouts: string[]): Promise<void> {
  const started = performance.now();
  if (!options.fake) {
    const invalidBefore = new Set(await invalidIndexes(db.session));
    // Recorded as failed until it finishes: if the runner dies half-way, the next run knows.
    if (direction === 'up') await history.recordFailed(definition.entry, 'interrupted: the runner stopped before this non-transactional migration finished');
    try {
      for (const sql of timeouts) await db.session.query(sql);
      const migration = instantiate(db, definition);
      await invoke(migration, direction, definition, options.root);
      await executeAll(migration.getQueries(), (sql) => db.session.query(sqlText(sql)), definition, options.root);
    } catch (error) {
      // Nothing rolls back outside a transaction: say exactly what was left behind.
      const leftovers = (await invalidIndexes(db.session).catch(() => [])).filter((name) => !invalidBefore.has(name));
      const cleanup = leftovers.length > 0 ? ` It left ${leftovers.length === 1 ? 'an INVALID index' : 'INVALID indexes'} ${leftovers.join(', ')}: drop ${leftovers.length === 1 ? 'it' : 'them'} with DROP INDEX CONCURRENTLY, then run \`migrate repair\` and migrate again.` : '';
      if (direction === 'up') await history.recordFailed(definition.entry, describeError(error) + cleanup).catch(() => {});
      if (!cleanup) throw error;
      throw new TributaryError(`${describeError(error)}${cleanup}`, { cause: error });
    } finally {
      await db.session.query('reset lock_timeout; reset statement_timeout').catch(() => {});
    }
  }
  if (direction === 'up') await history.recordApplied(definition.entry, performance.now() - started);
  else await history.remove(definition.entry.name);
}

async function invoke(migration: Migration, direction: Direction, definition: MigrationDefinition, root: string): Promise<void> {
  try {
    await migration[direction]();
  } catch (error) {
    throw new TributaryError(`Migration ${relative(root, definition.entry.file)} failed in ${direction}(): ${describeError(error)}`, { cause: error });
  }
}

async function executeAll(queries: unknown[], execute: (sql: unknown) => Promise<unknown>, definition: MigrationDefinition, root: string): Promise<void> {
  for (const [index, query] of queries.entries()) {
    if (typeof query === 'string' && query.trim() === '') continue;
    try {
      await execute(query);
    } catch (error) {
      const sql = sqlText(query).replace(/\s+/g, ' ').slice(0, 300);
      const why = isLockTimeout(error) ? ' (another session holds a conflicting lock on a table it changes; retry later, or use --lock-retries N or a longer --lock-timeout)' : '';
      throw new TributaryError(`Migration ${relative(root, definition.entry.file)} failed at statement ${index + 1} (${sql}): ${describeError(error)}${why}`, { cause: error });
    }
  }
}
