/**
 * Applies consecutive migrations whose SQL is known up front many per round trip, each still its
 * own transaction with its lock proof and history row; the one a round trip stopped in then runs
 * alone through `runMigration`, so errors and retries are those of a single migration.
 */
import { alreadyAppliedError, type History } from '../db/history.ts';
import type { Database } from '../db/connection.ts';
import { TributaryError, describeError } from '../errors.ts';
import type { MigrationDefinition } from '../stream/migration-file.ts';
import { backOff, deadClientCheck, isLockTimeout, lockTimeoutFailure, RESET_SESSION, timeoutStatements, type RunOptions } from './run-options.ts';
import { fitsOneQuery, runMigration, sessionTakesScripts } from './runner.ts';

/** At most this many migrations, and about this much SQL, travel in one round trip. */
const PIPELINE_MIGRATIONS = 100;
const PIPELINE_BYTES = 1 << 20;

/**
 * Whether a migration can travel in a pipeline (several migrations, one round trip): its SQL is
 * known without running up() (a file of the writer's shape, see loadMigration), it fits one query,
 * the session takes several statements at once (`sessionTakesScripts`), and the lock is proved
 * inside each transaction — on PGlite there is nothing to prove: its one session in this process
 * holds the lock until it closes.
 */
export function pipelinable(db: Database, definition: MigrationDefinition, options: RunOptions): boolean {
  const lockProvable = db.kind === 'pglite' || options.proofSql !== undefined;
  return Boolean(definition.sql) && sessionTakesScripts(db) && lockProvable && fitsOneQuery(definition, options, timeoutStatements(definition, options));
}

/**
 * Applies consecutive pipelinable migrations, many per round trip: each still in its own
 * transaction — the lock proved in it, its settings, its SQL, the session reset, its history row,
 * COMMIT — sent one after the other in one multi-statement query. PostgreSQL stops at the first
 * failure, so the migrations before it stay committed and none after it ran; the failed one then
 * goes through `runMigration` (which names the failing statement, applies a transient failure,
 * retries a lock timeout only as `lockRetries` allows), and the pipeline ends there. `applying` is
 * told of each migration as its round trip leaves, `applied` once it has committed; once `stop`
 * is aborted no round trip leaves. Returns how many of `definitions` it went through: all, or
 * fewer when stopped or after a migration that was applied on its own.
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
      const proof = options.proofSql ? [options.proofSql] : [];
      parts.push('begin', ...proof, ...local, ...statements, ...RESET_SESSION, history.recordSql('up', definition.entry, undefined, batch.at(-1)?.entry.name), 'commit');
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
    // Applied after all (a transient failure): the caller plans the rest again, since running it
    // on its own may have created PGlite's ORM, which takes one statement at a time.
    return definitions.length - rest.length + failedAt + 1;
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

