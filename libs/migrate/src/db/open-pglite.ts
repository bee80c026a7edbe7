/**
 * Opens a PGlite database (the embedded one in `.data/pglite/`, or a throw-away one in memory)
 * with the options that keep it light. PGlite is one session, so the ORM's connection is also
 * the pinned session.
 */
import { PGlite } from '@electric-sql/pglite';
import { MikroORM as PgliteMikroORM } from '@mikro-orm/pglite';
import type { AbstractSqlConnection } from '@mikro-orm/sql';
import { TributaryError, describeError } from '../errors.ts';
import { NOTHING_TO_LOAD, QUIET, sqlParts, type Database, type OpenOptions, type PinnedSession } from './database.ts';
import type { FileLock } from './file-lock.ts';

/**
 * PGlite options for the embedded database (MikroORM's `driverOptions`). PostgreSQL's default
 * 128 MB of shared buffers live in PGlite's WebAssembly memory and are all touched at start: 16 MB
 * holds a development database and saves ~120 MB of resident memory on every open.
 */
export const embeddedPgliteOptions = { startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'] };

const READ_ONLY = 'set default_transaction_read_only = on';

/** PGlite's one session, through the ORM's connection. */
export function pgliteSession(connection: AbstractSqlConnection): PinnedSession {
  return { query: (sql, params) => connection.execute(sql, params ?? [], 'all') as Promise<any[]>, close: async () => {} };
}

export async function openPglite(dataDir: string, label: string, lock: FileLock | undefined, options: OpenOptions): Promise<Database> {
  let orm: PgliteMikroORM;
  try {
    orm = await PgliteMikroORM.init({ ...QUIET, dbName: dataDir, entities: options.entities ?? [], driverOptions: embeddedPgliteOptions });
    await orm.em.getConnection().execute(options.readOnly ? READ_ONLY : 'select 1');
  } catch (error) {
    throw new TributaryError(`Cannot open ${label}: ${describeError(error)}`, { cause: error });
  }
  const { driver, connection } = sqlParts(orm);
  return {
    kind: 'pglite',
    label,
    orm,
    driver,
    connection,
    session: pgliteSession(connection),
    read: (sql) => pgliteSession(connection).query(sql),
    entities: NOTHING_TO_LOAD,
    close: async () => {
      await orm.close(true);
      lock?.release();
    },
  };
}

