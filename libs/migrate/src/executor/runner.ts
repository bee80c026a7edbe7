/**
 * Runs one migration in one direction. A transactional migration's SQL and its history row
 * commit together, or not at all; a non-transactional one runs statement by statement on the
 * pinned session, outside any transaction, and is recorded as failed if a statement fails.
 * Three ways, the fastest that fits: one round trip (settings, SQL, history row, COMMIT in one
 * query), a MikroORM transaction (up() queries the database itself), or statement by statement
 * outside any transaction. Pipelines and atomic batches build on it (pipeline.ts, atomic-batch.ts);
 * what every migration runs with is run-options.ts, reading SQL without running it sql-reader.ts.
 */
import { relative } from 'node:path';
import type { Transaction } from '@mikro-orm/core';
import type { Migration } from '@mikro-orm/migrations';
import type { Database } from '../db/connection.ts';
import { alreadyAppliedError, type History } from '../db/history.ts';
import { invalidIndexes } from '../db/invalid-indexes.ts';
import { TributaryError, describeError, sentence } from '../errors.ts';
import type { MigrationDefinition } from '../stream/migration-file.ts';
import { holdingConsole } from './console-hold.ts';
import { onTheOneSession } from './one-session.ts';
import { failedNonTransactionalAdvice } from './integrity.ts';
import { sqlText } from './query-intercept.ts';
import { assertNotStoppedForEntities, startingAgainForEntities, stoppedForEntities } from './entities-on-demand.ts';
import { deadClientCheck, isLockTimeout, LOCK_TIMEOUT_ADVICE, lockTimeoutFailure, RESET_SESSION, timeoutStatements, withLockRetries, type Direction, type RunOptions } from './run-options.ts';
import { collectWithoutQueries, instantiate, sqlReader } from './sql-reader.ts';

/**
 * Applies only the SQL a migration collects with `addSql`, with its history row (the shard
 * rebuild's scratch database): none of its own queries runs, and a data migration that needs
 * the data (or the entity manager) contributes what it collected before that.
 */
export async function replayCollectedSql(db: Database, history: History, definition: MigrationDefinition, root: string): Promise<void> {
  const { statements, reachedForDatabase, error } = await collectWithoutQueries(sqlReader(), definition, 'up');
  if (error !== undefined && !reachedForDatabase) throw new TributaryError(`Migration ${relative(root, definition.entry.file)} failed in up(): ${describeError(error)}`, { cause: error });
  if (!definition.transactional) {
    await executeAll(statements, (sql) => db.session.query(sql as string), definition, root);
    await history.recordApplied(definition.entry, 0);
    return;
  }
  await db.connection.transactional(async (trx: Transaction) => {
    await executeAll(statements, (sql) => db.connection.execute(sql as string, [], 'run', trx), definition, root);
    await history.recordApplied(definition.entry, 0, trx);
  });
}

export async function runMigration(db: Database, history: History, definition: MigrationDefinition, direction: Direction, options: RunOptions): Promise<number> {
  const timeouts = [...timeoutStatements(definition, options), ...(await deadClientCheck(db))];
  // A failed non-transactional migration may have left work behind (an INVALID index): never retry it blindly.
  const retries = definition.transactional ? options.lockRetries : 0;
  return startingAgainForEntities(db, () =>
    withLockRetries(retries, options.onRetry, async () => {
      await options.prove?.(definition.entry.name);
      const started = performance.now();
      if (options.fake) {
        // Nothing runs: its history row alone, one statement (atomic without a transaction, no ORM needed).
        await (direction === 'up' ? history.recordApplied(definition.entry, 0) : history.remove(definition.entry.name));
        return performance.now() - started;
      }
      if (fitsOneRoundTrip(db, definition, options, timeouts) && (await runInOneRoundTrip(db, history, definition, direction, options, timeouts))) {
        return performance.now() - started;
      }
      if (definition.transactional) await runInTransaction(db, history, definition, direction, options, timeouts);
      else await runOutsideTransaction(db, history, definition, direction, options, timeouts);
      return performance.now() - started;
    }, options.attemptsMade),
  );
}

async function runInTransaction(db: Database, history: History, definition: MigrationDefinition, direction: Direction, options: RunOptions, timeouts: string[]): Promise<void> {
  await db.connection.transactional((trx: Transaction) => applyInside(db, history, definition, direction, options, timeouts, trx));
}

/** One migration's SQL and its history row, inside the caller's transaction. */
export async function applyInside(db: Database, history: History, definition: MigrationDefinition, direction: Direction, options: RunOptions, timeouts: string[], trx: Transaction): Promise<void> {
  const started = performance.now();
  if (!options.fake) {
    for (const sql of timeouts) await db.connection.execute(sql.replace(/^set /, 'set local '), [], 'run', trx);
    const migration = instantiate(db, definition);
    migration.setTransactionContext(trx); // its entity manager and this.execute() work inside this transaction
    await onTheOneSession(db, trx, () => invoke(migration, direction, definition, options.root));
    assertNotStoppedForEntities(migration); // even if up() caught the stop: roll back, start again with them
    await executeAll(migration.getQueries(), (sql) => db.connection.execute(sql as any, [], 'run', trx), definition, options.root, options.onStatement);
    for (const sql of RESET_SESSION) await db.connection.execute(sql, [], 'run', trx);
  }
  if (direction === 'up') await history.recordApplied(definition.entry, performance.now() - started, trx);
  else await history.remove(definition.entry.name, trx);
}

/**
 * Whether the pinned session takes several statements in one query right now: PostgreSQL's does;
 * PGlite's while its ORM is not created — from then on every query goes through the ORM, one
 * statement at a time (see open-pglite.ts); an app's adopted PGlite ORM never does.
 */
export function sessionTakesScripts(db: Database): boolean {
  return db.kind === 'postgresql' || db.ormCreated?.() === false;
}

/**
 * Whether a migration can take the one-round-trip path: it fits one query and the session takes
 * scripts — on PGlite only when its SQL is known up front (instantiating its class would create
 * the ORM).
 */
export function fitsOneRoundTrip(db: Database, definition: MigrationDefinition, options: RunOptions, timeouts: string[]): boolean {
  return sessionTakesScripts(db) && (db.kind === 'postgresql' || definition.sql !== undefined) && fitsOneQuery(definition, options, timeouts);
}

/** Whether a migration can run as one multi-statement query: transactional, and no statement_timeout (it would cover the whole batch). */
export function fitsOneQuery(definition: MigrationDefinition, options: RunOptions, timeouts: string[]): boolean {
  return definition.transactional && !options.fake && !timeouts.some((t) => t.includes('statement_timeout'));
}

/**
 * Sends a migration's settings, SQL, history row and COMMIT as one multi-statement query on the
 * pinned session: one round trip, as fast as `psql` or faster. If anything fails, PostgreSQL has
 * aborted the transaction; it is rolled back and replayed statement by statement in a fresh
 * transaction, so the error names the failing statement (and a transient failure still applies).
 * Returns false, having touched nothing, when the migration queries the database itself or its
 * SQL is not plain text: the general path then runs it in a MikroORM transaction.
 */
async function runInOneRoundTrip(db: Database, history: History, definition: MigrationDefinition, direction: Direction, options: RunOptions, timeouts: string[]): Promise<boolean> {
  // A generated file's SQL is known: nothing to run first (and MikroORM need not load).
  const queries = definition.sql ? definition.sql[direction].filter((sql) => sql.trim() !== '') : await sqlKnownUpFront(db, definition, direction, options);
  if (!queries) return false;
  const started = performance.now();
  const setup = ['begin', ...timeouts.map((sql) => sql.replace(/^set /, 'set local '))];
  const session = db.session;
  const file = relative(options.root, definition.entry.file);
  try {
    // `\n;\n`: a statement ending in a `-- comment` must not swallow the separator.
    await session.query([...setup, ...queries, ...RESET_SESSION, history.recordSql(direction, definition.entry), 'commit'].join('\n;\n'));
    return true;
  } catch (error) {
    try {
      await session.query('rollback');
    } catch {
      // The pinned session is gone (terminated, restart, failover), and with it the migration lock.
      throw new TributaryError(`Lost the migration lock on ${db.label} (its session ended: ${describeError(error)}) during ${definition.entry.name}; it was not applied (its transaction ended with the session). Run migrate again.`, { cause: error });
    }
    if (history.isAlreadyRecorded(error)) throw alreadyAppliedError(definition.entry.name, error);
    // A lock timeout is never replayed: that would queue a second ACCESS EXCLUSIVE request in front of
    // the application's traffic. --lock-retries alone decides whether to try again.
    if (isLockTimeout(error)) throw lockTimeoutFailure(definition, options.root, queries, error);
  }
  // Anything else is replayed statement by statement, to name the statement (a transient failure then applies).
  await session.query(setup.join(';\n'));
  try {
    await executeAll(queries, (sql) => session.query(sql as string), definition, options.root, options.onStatement);
    await recordOrName(file, () => session.query([...RESET_SESSION, history.recordSql(direction, definition.entry, performance.now() - started)].join(';\n')), history, definition);
    await recordOrName(file, () => session.query('commit'), history, definition);
    return true;
  } catch (error) {
    await session.query('rollback').catch(() => {});
    throw error;
  }
}

/**
 * The SQL up()/down() collects, when that is all it does: undefined, having touched nothing, when
 * it queries the database itself or its SQL is not plain text (the general path then runs it).
 */
async function sqlKnownUpFront(db: Database, definition: MigrationDefinition, direction: Direction, options: RunOptions): Promise<string[] | undefined> {
  const migration = instantiate(db, definition);
  // Its SQL is known up front only if up()/down() runs no query itself (a base class's helper
  // included): the first such query is stopped here, before it reaches the database.
  let stoppedAt: 'query' | 'entity manager' | undefined;
  const stop = (at: typeof stoppedAt) => {
    stoppedAt ??= at;
    throw new Error('this migration runs queries itself; it needs the general path');
  };
  migration.execute = async () => stop('query');
  migration.getEntityManager = () => stop('entity manager');
  // Printed only if this is the run that counts; the general path starts up() again.
  const probe = await holdingConsole(() => invoke(migration, direction, definition, options.root));
  if (stoppedAt) {
    if (stoppedAt === 'entity manager') await db.entities.load(); // the general path then has them
    return undefined;
  }
  probe.replay();
  if (!probe.ok) throw probe.error;
  const queries = migration.getQueries().filter((q) => typeof q !== 'string' || q.trim() !== '');
  return queries.every((q): q is string => typeof q === 'string') ? queries : undefined;
}

/** The history write or COMMIT of a replayed migration: a failure names the file (and a second apply says so). */
async function recordOrName(file: string, write: () => Promise<unknown>, history: History, definition: MigrationDefinition): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (history.isAlreadyRecorded(error)) throw alreadyAppliedError(definition.entry.name, error);
    throw new TributaryError(`Migration ${file} failed while recording it as applied: ${describeError(error)}`, { cause: error });
  }
}

async function runOutsideTransaction(db: Database, history: History, definition: MigrationDefinition, direction: Direction, options: RunOptions, timeouts: string[]): Promise<void> {
  const started = performance.now();
  const invalidBefore = new Set(await invalidIndexes(db.session));
  // Recorded as failed until it finishes: if the runner dies half-way, the next run knows.
  if (direction === 'up') await history.recordFailed(definition.entry, 'interrupted: the runner stopped before this non-transactional migration finished');
  const migration = instantiate(db, definition);
  let queried = false;
  const execute = migration.execute.bind(migration);
  migration.execute = ((...args: Parameters<typeof execute>) => ((queried = true), execute(...args))) as typeof execute;
  try {
    for (const sql of timeouts) await db.session.query(sql);
    await invoke(migration, direction, definition, options.root);
    assertNotStoppedForEntities(migration);
    await executeAll(migration.getQueries(), (sql) => db.session.query(sqlText(sql)), definition, options.root, options.onStatement);
  } catch (error) {
    // The session as it was before the migration (it may have made it read-only, or changed role)
    // before anything else is written on it.
    await resetPinnedSession(db);
    if (stoppedForEntities(migration)) {
      // Nothing ran yet (a failed row blocks every run, so that row is this attempt's): start again with the entities.
      if (!queried) {
        if (direction === 'up') await history.remove(definition.entry.name);
        throw error;
      }
      error = new TributaryError(`Migration ${relative(options.root, definition.entry.file)} is non-transactional and asked for the entity manager after running a query itself; the entities are registered on the first getEntityManager() call, which must come before any this.execute() in such a migration.`, { cause: error });
    }
    // Nothing rolls back outside a transaction: say exactly what was left behind.
    const leftovers = (await invalidIndexes(db.session).catch(() => [])).filter((name) => !invalidBefore.has(name));
    // The history keeps what failed, not the advice: the next run gives its own.
    const failure = error instanceof StatementFailure ? error.failure : `: ${describeError(error)}`;
    if (direction === 'up') await history.recordFailed(definition.entry, failure).catch(() => {});
    throw new TributaryError(nonTransactionalFailure(error, leftovers, direction, relative(options.root, definition.entry.file)), { cause: error });
  }
  await resetPinnedSession(db);
  // Its work is done outside any transaction: record it only while still holding the lock.
  await options.prove?.(`recording ${definition.entry.name} as applied`);
  if (direction === 'up') await history.recordApplied(definition.entry, performance.now() - started);
  else await history.remove(definition.entry.name);
}

/**
 * Puts the pinned session back as a non-transactional migration found it: out of any transaction
 * block, its settings and role reset; one statement per query (PGlite's ORM takes one at a time).
 */
async function resetPinnedSession(db: Database): Promise<void> {
  for (const sql of ['rollback', ...RESET_SESSION]) await db.session.query(sql).catch(() => {});
}

/** A failed non-transactional migration, once: what failed, what stayed applied, and what to do (as the next run advises). */
function nonTransactionalFailure(error: unknown, leftovers: string[], direction: Direction, file: string): string {
  const advice = direction === 'up' ? failedNonTransactionalAdvice(leftovers) : leftovers.length > 0 ? `Drop the INVALID index${leftovers.length === 1 ? '' : 'es'} ${leftovers.join(', ')} with DROP INDEX CONCURRENTLY.` : '';
  if (!(error instanceof StatementFailure)) return `${sentence(describeError(error))} It is non-transactional: what ran before the failure stayed applied. ${advice}`.trim();
  const { statement, total, sql, reason } = error.at;
  const kept = statement === 1 ? 'No statement before it had run.' : `Statement${statement === 2 ? ' 1' : `s 1–${statement - 1}`} ran and stayed applied (nothing rolls back outside a transaction).`;
  return `Migration ${file} is non-transactional and ${sentence(`failed at statement ${statement} of ${total} (${sql}): ${reason}`)} ${kept} ${advice}`.trim();
}

async function invoke(migration: Migration, direction: Direction, definition: MigrationDefinition, root: string): Promise<void> {
  try {
    await migration[direction]();
  } catch (error) {
    throw new TributaryError(`Migration ${relative(root, definition.entry.file)} failed in ${direction}(): ${describeError(error)}`, { cause: error });
  }
}

async function executeAll(queries: unknown[], execute: (sql: unknown) => Promise<unknown>, definition: MigrationDefinition, root: string, onStatement?: (sql: string) => void): Promise<void> {
  for (const [index, query] of queries.entries()) {
    if (typeof query === 'string' && query.trim() === '') continue;
    onStatement?.(sqlText(query));
    try {
      await execute(query);
    } catch (error) {
      const sql = sqlText(query).replace(/\s+/g, ' ').slice(0, 300);
      const why = isLockTimeout(error) ? LOCK_TIMEOUT_ADVICE : '';
      throw new StatementFailure(`Migration ${relative(root, definition.entry.file)} failed`, { statement: index + 1, total: queries.length, sql, reason: describeError(error) }, why, error);
    }
  }
}

/** A statement of a migration failed; `failure` says which and why, without the file or advice. */
class StatementFailure extends TributaryError {
  /** Which statement failed (from 1) of how many, its SQL on one line, and PostgreSQL's reason. */
  readonly at: { statement: number; total: number; sql: string; reason: string };
  readonly failure: string;
  constructor(prefix: string, at: StatementFailure['at'], advice: string, cause: unknown) {
    const failure = ` at statement ${at.statement} (${at.sql}): ${at.reason}`;
    super(`${prefix}${failure}${advice}`, { cause });
    this.at = at;
    this.failure = failure;
  }
}
