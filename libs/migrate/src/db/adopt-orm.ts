/**
 * Wraps an app's already-connected MikroORM (PostgreSQL or PGlite) as a `Database`, so the boot
 * check reuses its connection instead of opening another. The pinned session is a client taken
 * from the ORM's own pool on first use; `close()` returns it and leaves the ORM to its owner.
 */
import type { MikroORM as PostgreSqlMikroORM } from '@mikro-orm/postgresql';
import { PgliteConnection, type MikroORM as PgliteMikroORM } from '@mikro-orm/pglite';
import type pg from 'pg';
import { NOTHING_TO_LOAD, sqlParts, type Database } from './database.ts';
import { pgliteSession } from './open-pglite.ts';

export function adoptOrm(orm: PostgreSqlMikroORM | PgliteMikroORM, label = 'the application database'): Database {
  const { driver, connection } = sqlParts(orm);
  const base = { label, orm, driver, connection, entities: NOTHING_TO_LOAD };
  if (connection instanceof PgliteConnection) return { ...base, kind: 'pglite', session: pgliteSession(connection), read: (sql) => pgliteSession(connection).query(sql), close: async () => {} };
  const pool = () => connection.getNativeClient() as Promise<pg.Pool>;
  let client: Promise<pg.PoolClient> | undefined;
  const pinned = () => (client ??= pool().then((clients) => clients.connect()));
  const release = async () => {
    if (client) (await client.catch(() => undefined))?.release();
    client = undefined;
  };
  return {
    ...base,
    kind: 'postgresql',
    session: { query: async (sql, params) => (await (await pinned()).query(sql, params as any[])).rows, close: release },
    read: async (sql) => (await (await pool()).query(sql)).rows,
    otherSession: async () => {
      const other = await (await pool()).connect();
      return { query: async (sql) => (await other.query(sql)).rows, release: (broken) => other.release(broken) };
    },
    close: release,
  };
}

