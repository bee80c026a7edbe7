/**
 * Runs one migration in one direction. A transactional migration's SQL and its history row
 * commit together, or not at all; a non-transactional one runs statement by statement on the
 * pinned session, outside any transaction, and is recorded as failed if a statement fails.
 * Also reads a migration's SQL without running any query of its own (lint, rollback's checks,
 * the shard rebuild), its console output held back.
 */
import { relative } from 'node:path';
import type { Transaction } from '@mikro-orm/core';
import type { Migration } from '@mikro-orm/migrations';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AbstractSqlConnection, AbstractSqlDriver } from '@mikro-orm/sql';
import { DURATION } from '../config/config.ts';
import type { Database } from '../db/connection.ts';
import { alreadyAppliedError, type History } from '../db/history.ts';
import { invalidIndexes } from '../db/invalid-indexes.ts';
import { TributaryError, describeError, sentence } from '../errors.ts';
import type { MigrationDefinition } from '../stream/migration-file.ts';
import { MikroORM } from '@mikro-orm/postgresql';
import { holdingConsole } from './console-hold.ts';
import { interceptingQueries, noRows, sqlText } from './query-intercept.ts';
import { assertNotStoppedForEntities, guardEntityManager, startingAgainForEntities, stoppedForEntities } from './entities-on-demand.ts';

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
  /** Proves the migration lock is still held before `what` starts (see db/lock.ts). */
  prove?: (what: string) => Promise<void>;
  /** The same proof as a statement run inside each pipelined migration's transaction (`HeldLock.proofSql`). */
  proofSql?: string;
  /** Attempts this migration already had that timed out on a lock (in a pipeline): they count against `lockRetries`. */
  attemptsMade?: number;
}

/**
 * Session state a migration may set (`SET search_path`, `SET ROLE`, `SET SESSION AUTHORIZATION`,
 * timeouts) is put back after it, inside its own transaction where it has one, so it never
 * reaches the next migration or the application sharing the connection. Not DISCARD ALL: that
 * would also release the migration lock.
 */
const RESET_SESSION = ['reset all', 'reset session authorization'];

export interface CollectedSql {
  statements: string[];
  /** Queries up()/down() sent itself (`this.execute()`, the entity manager), in order. */
  directQueries: string[];
  /** Dry run: those of them that would write, refused by its read-only transaction (the others were reads and ran). */
  wouldWrite?: string[];
  /** Dry run: up()/down() failed after a write it was refused (its error), so what it would do next is not known. */
  stoppedAfterWrite?: string;
}

export function checkDuration(value: string, what: string): string {
  if (!DURATION.test(value.trim())) throw new TributaryError(`${what} "${value}" is not a duration like 5s, 500ms or 2min.`);
  return value.trim();
}

/** A migration ready to run on `db`; its entity manager knows every service's entities (see entities-on-demand.ts). */
export function instantiate(db: Pick<Database, 'driver' | 'orm' | 'entities'>, definition: MigrationDefinition): Migration {
  const migration = new definition.migrationClass(db.driver as any, db.orm.config as any);
  migration.name = definition.entry.name;
  guardEntityManager(db, migration);
  return migration;
}


interface Collected extends CollectedSql {
  /** It sent a query or asked for the entity manager: answered with no rows, or refused. */
  reachedForDatabase: boolean;
  /** up()/down() failed; after reaching for the database, its SQL is known only up to there. */
  error?: unknown;
}

let reader: Pick<Database, 'driver' | 'orm'> | undefined;

/**
 * A MikroORM for reading migrations' SQL (one per process): `addSql` works, and a query answers
 * no rows (see `collectWithoutQueries`); it has no server to connect to, and refuses to try.
 */
export function sqlReader(): Pick<Database, 'driver' | 'orm'> {
  return (reader ??= newSqlReader());
}

function newSqlReader(): Pick<Database, 'driver' | 'orm'> {
  const orm = new MikroORM({ dbName: 'tributary_offline', host: '/nonexistent/tributary-offline', discovery: { warnWhenNoEntities: false }, allowGlobalContext: true, entities: [] });
  orm.em.getConnection().connect = async () => {
    throw new TributaryError("reading a migration's SQL needs no database, and runs none of its queries");
  };
  return { driver: orm.em.getDriver() as unknown as AbstractSqlDriver, orm };
}


/**
 * What up()/down() collects with `addSql`, running no query of its own and printing nothing:
 * every query it sends (`this.execute()`, the entity manager's) is noted and answers no rows.
 */
async function collectWithoutQueries(db: Pick<Database, 'driver' | 'orm'>, definition: MigrationDefinition, direction: Direction): Promise<Collected> {
  const migration = new definition.migrationClass(db.driver as any, db.orm.config as any);
  migration.name = definition.entry.name;
  const directQueries: string[] = [];
  let reachedForDatabase = false;
  const getEntityManager = migration.getEntityManager;
  migration.getEntityManager = function (this: Migration) {
    reachedForDatabase = true;
    return getEntityManager.call(this);
  } as Migration['getEntityManager'];
  const answerNoRows = async (query: { sql: string; method: string }) => {
    reachedForDatabase = true;
    directQueries.push(query.sql);
    return noRows(query.method);
  };
  const run = await interceptingQueries(db.driver.getConnection() as AbstractSqlConnection, answerNoRows, () => holdingConsole(async () => migration[direction]()));
  return { statements: migration.getQueries().map(sqlText), directQueries, reachedForDatabase, ...(run.ok ? {} : { error: run.error }) };
}

/** What a migration would run, read without a database and without running any query of its own (lint, rollback's checks). */
export async function collectSql(db: Pick<Database, 'driver' | 'orm'>, definition: MigrationDefinition, direction: Direction): Promise<CollectedSql> {
  const { statements, directQueries, error } = await collectWithoutQueries(db, definition, direction);
  if (error !== undefined) throw error;
  return { statements, directQueries };
}

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
    // Asked, not tried: a session-wide SET here would outlive the run on a connection lent by the app.
    const setting = `set client_connection_check_interval = '1s'`;
    check = db.session
      .query(`select current_setting('server_version_num')::int >= 140000 as "supported"`)
      .then(([row]) => (row?.supported ? [setting] : []), () => []);
    deadClientChecks.set(db, check);
  }
  return check;
}

const LOCK_TIMEOUT_ADVICE = ' (another session holds a conflicting lock on a table it changes; retry later, or use --lock-retries N or a longer --lock-timeout)';

function isLockTimeout(error: unknown): boolean {
  for (let e: any = error; e; e = e.cause) if (e.code === '55P03') return true;
  return /lock timeout/i.test(describeError(error));
}

const backOff = (attempt: number) => sleep(Math.min(1000 * 2 ** attempt, 10_000));

/** Runs `attempt` again (with back-off) while it fails on a lock timeout, up to `retries` times (`made` of them spent already). */
async function withLockRetries<T>(retries: number, onRetry: RunOptions['onRetry'], attempt: () => Promise<T>, made = 0): Promise<T> {
  for (let n = made; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isLockTimeout(error) || n >= retries) throw error;
      onRetry?.(n + 1, describeError(error));
      await backOff(n);
    }
  }
}

function lockTimeoutFailure(definition: MigrationDefinition, root: string, queries: string[], error: unknown): TributaryError {
  const at = queries.length === 1 ? ` at statement 1 (${queries[0]!.replace(/\s+/g, ' ').slice(0, 300)})` : '';
  return new TributaryError(`Migration ${relative(root, definition.entry.file)} failed${at}: ${describeError(error)}${LOCK_TIMEOUT_ADVICE}`, { cause: error });
}

export async function runMigration(db: Database, history: History, definition: MigrationDefinition, direction: Direction, options: RunOptions): Promise<number> {
  const timeouts = [...timeoutStatements(definition, options), ...(await deadClientCheck(db))];
  // A failed non-transactional migration may have left work behind (an INVALID index): never retry it blindly.
  const retries = definition.transactional ? options.lockRetries : 0;
  return startingAgainForEntities(db, () =>
    withLockRetries(retries, options.onRetry, async () => {
      await options.prove?.(definition.entry.name);
      const started = performance.now();
      if (fitsOneRoundTrip(db, definition, options, timeouts) && (await runInOneRoundTrip(db, history, definition, direction, options, timeouts))) {
        return performance.now() - started;
      }
      if (definition.transactional) await runInTransaction(db, history, definition, direction, options, timeouts);
      else await runOutsideTransaction(db, history, definition, direction, options, timeouts);
      return performance.now() - started;
    }, options.attemptsMade),
  );
}

/** At most this many migrations, and about this much SQL, travel in one round trip. */
const PIPELINE_MIGRATIONS = 100;
const PIPELINE_BYTES = 1 << 20;

/**
 * Whether a migration can travel in a pipeline (several migrations, one round trip): its SQL is
 * known without running up() (a file of the writer's shape, see loadMigration), it fits the
 * one-round-trip path, and the lock can be proved inside its transaction.
 */
export function pipelinable(db: Database, definition: MigrationDefinition, options: RunOptions): boolean {
  return Boolean(definition.sql) && options.proofSql !== undefined && fitsOneRoundTrip(db, definition, options, timeoutStatements(definition, options));
}

/**
 * Applies consecutive pipelinable migrations, many per round trip: each still in its own
 * transaction — the lock proved in it, its settings, its SQL, the session reset, its history row,
 * COMMIT — sent one after the other in one multi-statement query. PostgreSQL stops at the first
 * failure, so the migrations before it stay committed and none after it ran; the failed one then
 * goes through `runMigration` (which names the failing statement, applies a transient failure,
 * retries a lock timeout only as `lockRetries` allows), and the rest continue. `applying` is told
 * of each migration as its round trip leaves, `applied` once it has committed; once `stop` is
 * aborted no round trip leaves. Returns how many of `definitions` it went through.
 */
export async function runPipelined(
  db: Database,
  history: History,
  definitions: MigrationDefinition[],
  optionsOf: (definition: MigrationDefinition) => RunOptions,
  events: { applying?: (definition: MigrationDefinition) => void; applied: (definition: MigrationDefinition, ms: number) => void; stop?: AbortSignal },
): Promise<number> {
  const { applied } = events;
  const check = await deadClientCheck(db);
  for (let rest = definitions; rest.length > 0; ) {
    if (events.stop?.aborted) return definitions.length - rest.length; // no round trip starts once stopped
    const batch: MigrationDefinition[] = [];
    const parts: string[] = [];
    let bytes = 0;
    for (const definition of rest) {
      if (batch.length > 0 && (batch.length >= PIPELINE_MIGRATIONS || bytes >= PIPELINE_BYTES)) break;
      const options = optionsOf(definition);
      const statements = definition.sql!.up.filter((sql) => sql.trim() !== '');
      const local = [...timeoutStatements(definition, options), ...check].map((sql) => sql.replace(/^set /, 'set local '));
      const earlier = batch.map((d) => d.entry.name);
      parts.push('begin', options.proofSql!, ...local, ...statements, ...RESET_SESSION, history.recordSql('up', definition.entry, undefined, earlier), 'commit');
      bytes += statements.reduce((sum, sql) => sum + sql.length, 0);
      batch.push(definition);
    }
    batch.forEach((definition) => events.applying?.(definition));
    const failure = await sendPipeline(db, history, batch, parts);
    const committed = failure ? failure.committed : await history.appliedAmong(batch.map((d) => d.entry.name), db.session);
    const failedAt = failure ? batch.findIndex((d) => !committed.has(d.entry.name)) : batch.length;
    for (const definition of batch.slice(0, failedAt)) applied(definition, committed.get(definition.entry.name) ?? 0);
    if (!failure) {
      rest = rest.slice(batch.length);
      continue;
    }
    const failed = batch[failedAt]!;
    events.applying?.(failed); // now on its own
    applied(failed, await runAfterPipelineFailure(db, history, failed, optionsOf(failed), failure.error));
    rest = rest.slice(failedAt + 1);
  }
  return definitions.length;
}

/** Sends one pipeline; on failure, rolls back the migration it stopped in and says which ones committed. */
async function sendPipeline(db: Database, history: History, batch: MigrationDefinition[], parts: string[]): Promise<{ error: unknown; committed: Map<string, number> } | undefined> {
  const names = batch.map((d) => d.entry.name);
  try {
    // `\n;\n`: a statement ending in a `-- comment` must not swallow the separator.
    await db.session.query(parts.join('\n;\n'));
    return undefined;
  } catch (error) {
    try {
      await db.session.query('rollback');
    } catch {
      // The pinned session is gone (terminated, restart, failover), and with it the migration lock.
      const committed = await history.appliedAmong(names).catch(() => undefined);
      const stopped = committed && batch.find((d) => !committed.has(d.entry.name));
      const during = stopped ? `during ${stopped.entry.name}; it was not applied (its transaction ended with the session)` : `while applying ${names[0]} to ${names.at(-1)} in one round trip; each of them either committed with its history row or did not run`;
      throw new TributaryError(`Lost the migration lock on ${db.label} (its session ended: ${describeError(error)}) ${during}. Run migrate again.`, { cause: error });
    }
    return { error, committed: await history.appliedAmong(names, db.session) };
  }
}

/** The migration a pipeline stopped in, run as it would have been on its own: same errors, same retries. */
async function runAfterPipelineFailure(db: Database, history: History, definition: MigrationDefinition, options: RunOptions, error: unknown): Promise<number> {
  if (history.isAlreadyRecorded(error)) throw alreadyAppliedError(definition.entry.name, error);
  // A lock timeout is never replayed: that attempt counts as the first (see runInOneRoundTrip).
  if (isLockTimeout(error)) {
    const failure = lockTimeoutFailure(definition, options.root, definition.sql!.up.filter((sql) => sql.trim() !== ''), error);
    if (options.lockRetries === 0) throw failure;
    options.onRetry?.(1, describeError(failure));
    await backOff(0);
    return runMigration(db, history, definition, 'up', { ...options, attemptsMade: 1 });
  }
  return runMigration(db, history, definition, 'up', options);
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
  // A migration that asks for the entity manager first rolls the whole batch back; it then runs again with them.
  const durations = await startingAgainForEntities(db, () =>
    withLockRetries(options.lockRetries, options.onRetry, async () => {
      await options.prove?.('the atomic batch');
      const measured: number[] = [];
      await db.connection.transactional(async (trx: Transaction) => {
        for (const [index, definition] of definitions.entries()) {
          events.applying?.(definition, index);
          const started = performance.now();
          await applyInside(db, history, definition, 'up', options, [...timeoutStatements(definition, options), ...check], trx);
          measured.push(performance.now() - started);
        }
      });
      return measured;
    }),
  );
  definitions.forEach((d, i) => events.applied?.(d, durations[i]!)); // only once the batch committed
  return durations;
}

async function runInTransaction(db: Database, history: History, definition: MigrationDefinition, direction: Direction, options: RunOptions, timeouts: string[]): Promise<void> {
  await db.connection.transactional((trx: Transaction) => applyInside(db, history, definition, direction, options, timeouts, trx));
}

/** One migration's SQL and its history row, inside the caller's transaction. */
async function applyInside(db: Database, history: History, definition: MigrationDefinition, direction: Direction, options: RunOptions, timeouts: string[], trx: Transaction): Promise<void> {
  const started = performance.now();
  if (!options.fake) {
    for (const sql of timeouts) await db.connection.execute(sql.replace(/^set /, 'set local '), [], 'run', trx);
    const migration = instantiate(db, definition);
    migration.setTransactionContext(trx); // its entity manager and this.execute() work inside this transaction
    await invoke(migration, direction, definition, options.root);
    assertNotStoppedForEntities(migration); // even if up() caught the stop: roll back, start again with them
    await executeAll(migration.getQueries(), (sql) => db.connection.execute(sql as any, [], 'run', trx), definition, options.root);
    for (const sql of RESET_SESSION) await db.connection.execute(sql, [], 'run', trx);
  }
  if (direction === 'up') await history.recordApplied(definition.entry, performance.now() - started, trx);
  else await history.remove(definition.entry.name, trx);
}

/**
 * Whether a migration can take the one-round-trip path: PostgreSQL, transactional, and no
 * statement_timeout (it would cover the whole batch).
 */
function fitsOneRoundTrip(db: Database, definition: MigrationDefinition, options: RunOptions, timeouts: string[]): boolean {
  return (
    db.kind === 'postgresql' &&
    definition.transactional &&
    !options.fake &&
    !timeouts.some((t) => t.includes('statement_timeout'))
  );
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
    return false;
  }
  probe.replay();
  if (!probe.ok) throw probe.error;
  const queries = migration.getQueries().filter((q) => typeof q !== 'string' || q.trim() !== '');
  if (!queries.every((q): q is string => typeof q === 'string')) return false;
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
    await executeAll(queries, (sql) => session.query(sql as string), definition, options.root);
    await recordOrName(file, () => session.query([...RESET_SESSION, history.recordSql(direction, definition.entry, performance.now() - started)].join(';\n')), history, definition);
    await recordOrName(file, () => session.query('commit'), history, definition);
    return true;
  } catch (error) {
    await session.query('rollback').catch(() => {});
    throw error;
  }
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
  if (!options.fake) {
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
      await executeAll(migration.getQueries(), (sql) => db.session.query(sqlText(sql)), definition, options.root);
    } catch (error) {
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
      const cleanup = leftovers.length > 0 ? ` It left ${leftovers.length === 1 ? 'an INVALID index' : 'INVALID indexes'} ${leftovers.join(', ')}: drop ${leftovers.length === 1 ? 'it' : 'them'} with DROP INDEX CONCURRENTLY, then run \`migrate repair\` and migrate again.` : '';
      // The history keeps what failed, not the advice: the next run gives its own.
      const failure = error instanceof StatementFailure ? error.failure : `: ${describeError(error)}`;
      if (direction === 'up') await history.recordFailed(definition.entry, failure).catch(() => {});
      if (!cleanup) throw error;
      throw new TributaryError(`${sentence(describeError(error))}${cleanup}`, { cause: error });
    } finally {
      await db.session.query(RESET_SESSION.join('; ')).catch(() => {});
    }
    // Its work is done outside any transaction: record it only while still holding the lock.
    await options.prove?.(`recording ${definition.entry.name} as applied`);
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
      const why = isLockTimeout(error) ? LOCK_TIMEOUT_ADVICE : '';
      throw new StatementFailure(`Migration ${relative(root, definition.entry.file)} failed`, ` at statement ${index + 1} (${sql}): ${describeError(error)}`, why, error);
    }
  }
}

/** A statement of a migration failed; `failure` says which and why, without the file or advice. */
class StatementFailure extends TributaryError {
  readonly failure: string;
  constructor(prefix: string, failure: string, advice: string, cause: unknown) {
    super(`${prefix}${failure}${advice}`, { cause });
    this.failure = failure;
  }
}
