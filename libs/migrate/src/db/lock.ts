/**
 * The migration lock: a PostgreSQL session advisory lock on the pinned session, outside any
 * transaction, taken with `pg_try_advisory_lock` polled with back-off (a blocking lock call
 * would deadlock with `CREATE INDEX CONCURRENTLY`). Released explicitly, or by the server when
 * the session dies — which is why the holder proves it still holds it (`HeldLock.prove`, or
 * `proofSql` inside the migration's own transaction) before each migration instead of assuming so.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TributaryError } from '../errors.ts';
import type { Database } from './connection.ts';
import { refuseSessionlessPooler } from './pooler.ts';

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

/** The lock while it is held: `prove` fails with one sentence once the session holding it is gone. */
export interface HeldLock {
  prove(before: string): Promise<void>;
  /**
   * The same proof as one statement for the holding session to run inside a migration's own
   * transaction (several migrations in one round trip): it fails unless that session still holds
   * the lock. Undefined on PGlite, whose one session holds it until it closes.
   */
  proofSql?: string;
}

export async function withMigrationLock<T>(db: Database, historyTable: string, options: LockOptions, fn: (waited: boolean, lock: HeldLock) => Promise<T>): Promise<T> {
  await refuseSessionlessPooler(db); // a transaction pooler would hand the lock's session to others
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
  // Held twice over (a session lock counts its holds): the proof inside a pipelined migration gives
  // one hold back and takes it again — two calls on the lock manager, where reading pg_locks cost
  // ~0.1 ms per migration — without ever leaving the lock free. A migration that released it
  // (pg_advisory_unlock_all) leaves nothing to give back, and the proof fails.
  const holds = db.kind === 'postgresql' ? 2 : 1;
  if (holds === 2) await db.session.query(`select pg_try_advisory_lock(${key})`);
  const held = `exists (select 1 from pg_locks where locktype = 'advisory' and granted and objsubid = 1 and pid = pg_backend_pid()
             and ((classid::bigint << 32) | objid::bigint) = (${key})::bigint)`;
  // Reading a setting nobody sets is an error PostgreSQL raises only when reached (a constant would be folded early).
  const lost = `current_setting('tributary.migration_lock_lost')`;
  const lock: HeldLock = {
    proofSql: holds === 2 ? `select case when pg_advisory_unlock(${key}) then case when pg_try_advisory_lock(${key}) then null else ${lost} end else ${lost} end` : undefined,
    prove: async (before) => {
      if (db.kind !== 'postgresql') return; // PGlite is one session in this process: held until it closes
      let holding = false;
      try {
        const [row] = await db.session.query(`select ${held} as "held"`);
        holding = Boolean(row?.held);
      } catch {
        holding = false; // the session is gone (terminated, timed out, network): so is the lock
      }
      if (!holding) {
        throw new TributaryError(`Lost the migration lock on ${db.label} (its session ended) before ${before}; stopped without starting it — migrations applied before it stay applied. Run migrate again.`);
      }
    },
  };
  try {
    return await fn(waited, lock);
  } finally {
    // Every hold given back: a lock left on an app's pooled connection would outlive the run.
    for (let n = 0; n < holds; n++) {
      const [row] = await db.session.query(`select pg_advisory_unlock(${key}) as "released"`).catch(() => [undefined]);
      if (!row?.released) break;
    }
  }
}
