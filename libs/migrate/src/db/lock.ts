/**
 * The migration lock: a PostgreSQL session advisory lock on the pinned session, outside any
 * transaction, taken with `pg_try_advisory_lock` polled with back-off (a blocking lock call
 * would deadlock with `CREATE INDEX CONCURRENTLY`). Released explicitly, or by the server when
 * the session dies.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TributaryError } from '../errors.ts';
import type { Database } from './connection.ts';

export interface LockOptions {
  /** How long to wait for another runner, in seconds. */
  waitSeconds: number;
  /** Called once when the lock is busy, before waiting. */
  onWait?: () => void;
}

/** A stable 64-bit key per history table, so two workspaces on one database don't collide. */
export function lockKey(historyTable: string): string {
  return BigInt.asIntN(64, BigInt(`0x${createHash('sha256').update(`tributary:${historyTable}`).digest('hex').slice(0, 16)}`)).toString();
}

export async function withMigrationLock<T>(db: Database, historyTable: string, options: LockOptions, fn: (waited: boolean) => Promise<T>): Promise<T> {
  const key = lockKey(historyTable);
  const deadline = Date.now() + options.waitSeconds * 1000;
  let delay = 50;
  let waited = false;
  for (;;) {
    const [row] = await db.session.query(`select pg_try_advisory_lock(${key}) as "locked"`);
    if (row?.locked) break;
    if (!waited) options.onWait?.();
    waited = true;
    if (Date.now() >= deadline) {
      throw new TributaryError(`Another migration runner has held the migration lock on ${db.label} for more than ${options.waitSeconds}s; try again later or raise --lock-wait.`);
    }
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 1000);
  }
  try {
    return await fn(waited);
  } finally {
    await db.session.query(`select pg_advisory_unlock(${key})`).catch(() => {});
  }
}
