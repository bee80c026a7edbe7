/**
 * Opens PostgreSQL at `DATABASE_URL`: MikroORM with a small pool for migrations' transactions,
 * and one pinned `pg` client outside any transaction for the advisory lock and
 * non-transactional SQL. A dry run opens every session read-only.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MikroORM as PostgreSqlMikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { TributaryConfig } from '../config/config.ts';
import { TributaryError, describeError } from '../errors.ts';
import { NOTHING_TO_LOAD, QUIET, sqlParts, type Database, type OpenOptions } from './database.ts';
import { describeTarget } from './embedded.ts';

export async function openPostgres(config: TributaryConfig, options: OpenOptions): Promise<Database> {
  const label = describeTarget(config);
  // `-c default_transaction_read_only=on` is a startup parameter of every session the pool opens.
  const readOnly = options.readOnly ? { options: '-c default_transaction_read_only=on' } : {};
  const orm = await PostgreSqlMikroORM.init({ ...QUIET, clientUrl: config.databaseUrl, entities: options.entities ?? [], pool: { min: 0, max: 4 }, driverOptions: readOnly });
  const { driver, connection } = sqlParts(orm);
  const client = new pg.Client({ connectionString: config.databaseUrl, application_name: 'tributary', ...readOnly });
  try {
    await client.connect();
    await connection.execute('select 1');
  } catch (error) {
    await orm.close(true).catch(() => {});
    await client.end().catch(() => {});
    throw new TributaryError(`Cannot connect to ${label}: ${describeError(error) || (error as any).code}`, { cause: error });
  }
  client.on('error', () => {}); // a dropped session surfaces on the next query instead
  return {
    kind: 'postgresql',
    label,
    orm,
    driver,
    connection,
    session: {
      query: async (sql, params) => (await client.query(sql, params as any[])).rows,
      close: () => client.end(),
    },
    entities: NOTHING_TO_LOAD,
    close: async () => {
      await client.end().catch(() => {});
      // After the server killed a session mid-transaction (restart, failover, pg_terminate_backend),
      // the pool waits forever for that client: bound the wait so the real error gets reported.
      const bound = new AbortController();
      await Promise.race([orm.close(true), sleep(2000, undefined, { signal: bound.signal }).catch(() => {})]);
      bound.abort();
    },
  };
}

