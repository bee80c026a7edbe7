/**
 * What every migration runs with, whichever way it runs: its lock and statement timeouts (the
 * run's, or its file's own), the dead-client check, the session reset after it, and retries with
 * back-off when a statement times out waiting for a table lock.
 */
import { relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DURATION } from '../config/config.ts';
import type { Database } from '../db/connection.ts';
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
  /** Proves the migration lock is still held before `what` starts (see db/lock.ts). */
  prove?: (what: string) => Promise<void>;
  /** The same proof as a statement run inside each pipelined migration's transaction (`HeldLock.proofSql`). */
  proofSql?: string;
  /** Told of each statement as it starts, where statements go one by one (the terminal view shows a long one). */
  onStatement?: (sql: string) => void;
  /** Attempts this migration already had that timed out on a lock (in a pipeline): they count against `lockRetries`. */
  attemptsMade?: number;
}

/**
 * Session state a migration may set (`SET search_path`, `SET ROLE`, `SET SESSION AUTHORIZATION`,
 * timeouts) is put back after it, inside its own transaction where it has one, so it never
 * reaches the next migration or the application sharing the connection. Not DISCARD ALL: that
 * would also release the migration lock.
 */
export const RESET_SESSION = ['reset all', 'reset session authorization'];

export function checkDuration(value: string, what: string): string {
  if (!DURATION.test(value.trim())) throw new TributaryError(`${what} "${value}" is not a duration like 5s, 500ms or 2min.`);
  return value.trim();
}


export function timeoutStatements(definition: MigrationDefinition, options: RunOptions): string[] {
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
export function deadClientCheck(db: Database): Promise<string[]> {
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

export const LOCK_TIMEOUT_ADVICE = ' (another session holds a conflicting lock on a table it changes; retry later, or use --lock-retries N or a longer --lock-timeout)';

export function isLockTimeout(error: unknown): boolean {
  for (let e: any = error; e; e = e.cause) if (e.code === '55P03') return true;
  return /lock timeout/i.test(describeError(error));
}

export const backOff = (attempt: number) => sleep(Math.min(1000 * 2 ** attempt, 10_000));

/** Runs `attempt` again (with back-off) while it fails on a lock timeout, up to `retries` times (`made` of them spent already). */
export async function withLockRetries<T>(retries: number, onRetry: RunOptions['onRetry'], attempt: () => Promise<T>, made = 0): Promise<T> {
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

export function lockTimeoutFailure(definition: MigrationDefinition, root: string, queries: string[], error: unknown): TributaryError {
  const at = queries.length === 1 ? ` at statement 1 (${queries[0]!.replace(/\s+/g, ' ').slice(0, 300)})` : '';
  return new TributaryError(`Migration ${relative(root, definition.entry.file)} failed${at}: ${describeError(error)}${LOCK_TIMEOUT_ADVICE}`, { cause: error });
}

