/**
 * Refuses to change the schema through a connection pooler that does not give each client its own
 * server session (PgBouncer in transaction or statement pooling): there the migration lock, held by
 * a session, and the session settings a migration relies on do not survive between statements.
 *
 * An ordinary connection cannot ask the pooler its mode (`SHOW pool_mode` works only on PgBouncer's
 * admin console), so the check observes what matters: with the pinned session idle, a second
 * client opens a transaction, then the pinned session asks for its backend again. On a direct
 * connection or a session pooler the two clients always have different backends and the pinned
 * session keeps its own. A transaction pooler hands the pinned session's idle backend to the
 * second client (it reuses the most recently used one), or moves the pinned session to another;
 * a statement pooler refuses the transaction outright.
 */
import { TributaryError, describeError } from '../errors.ts';
import type { Database } from './connection.ts';

export type PoolingMode = 'transaction' | 'statement';

export async function refuseSessionlessPooler(db: Database): Promise<void> {
  const mode = await sessionlessPooling(db);
  if (!mode) return;
  throw new TributaryError(
    `${db.label} is reached through a connection pooler in ${mode} pooling mode (PgBouncer), where the session holding the migration lock does not last: set MIGRATION_DATABASE_URL to a direct connection to the database (or to a session-pooling port) for migrations.`,
  );
}

/** The pooling mode that breaks sessions, or undefined on a direct connection or a session pooler. */
export async function sessionlessPooling(db: Database): Promise<PoolingMode | undefined> {
  if (db.kind !== 'postgresql') return undefined;
  const backendOf = async (query: (sql: string) => Promise<Array<{ pid: number }>>) => Number((await query('select pg_backend_pid() as pid'))[0]!.pid);
  const pinned = await backendOf((sql) => db.session.query(sql));
  // A second client of the same database (a new one for the CLI; one of the app's pool for the boot check).
  const other = await db.otherSession!();
  let broken = false;
  try {
    try {
      await other.query('begin');
    } catch (error) {
      broken = true;
      if (/statement pooling/i.test(describeError(error))) return 'statement';
      throw error;
    }
    const second = await backendOf((sql) => other.query(sql));
    const pinnedAgain = await backendOf((sql) => db.session.query(sql));
    await other.query('rollback');
    return second === pinned || pinnedAgain !== pinned ? 'transaction' : undefined;
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    other.release(broken);
  }
}
