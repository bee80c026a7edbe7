/**
 * Opens a PGlite database (the embedded one in `.data/pglite/`, or a throw-away one in memory)
 * with the options that keep it light, and MikroORM over it only when something needs the ORM:
 * reading the history or applying generated migrations is plain SQL on PGlite's one session,
 * and importing MikroORM (with Kysely, ~440 modules) cost ~0.4 s of every embedded command.
 * Once the ORM exists, every query goes through it, as PGlite is one session: a query beside
 * an open ORM transaction would wait for that transaction to end.
 */
import { PGlite } from '@electric-sql/pglite';
import type { MikroORM as PgliteMikroORM } from '@mikro-orm/pglite';
import type { AbstractSqlConnection } from '@mikro-orm/sql';
import { parse as parseArray } from 'postgres-array';
import { TributaryError, describeError } from '../errors.ts';
import { NOTHING_TO_LOAD, ormOnFirstUse, QUIET, type Database, type OpenOptions, type WithoutOrm, type PinnedSession } from './database.ts';
import type { FileLock } from './file-lock.ts';
import { pgliteOrm } from './orm-modules.ts';

/**
 * PGlite options for the embedded database (MikroORM's `driverOptions`). PostgreSQL's default
 * 128 MB of shared buffers live in PGlite's WebAssembly memory and are all touched at start: 16 MB
 * holds a development database and saves ~120 MB of resident memory on every open.
 */
export const embeddedPgliteOptions = { startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'] };

/**
 * The type parsers MikroORM's PGlite connection gives an instance it creates itself
 * (`createPostgreSqlTypeParsers` in @mikro-orm/sql): dates, timestamps and intervals, and arrays
 * of them, stay text for the ORM to convert. An instance handed to MikroORM keeps its own parsers,
 * so ours has the same ones (a test compares them).
 */
export const ORM_TYPE_PARSERS: Record<number, (text: string) => unknown> = Object.fromEntries([
  ...[1082, 1114, 1184, 1186].map((oid) => [oid, (text: string) => text]), // date, timestamp, timestamptz, interval
  ...[1182, 1115, 1185, 1187].map((oid) => [oid, (text: string) => parseArray(text)]), // their arrays
]);

const READ_ONLY = 'set default_transaction_read_only = on';

/** PGlite's one session, through the ORM's connection. */
export function pgliteSession(connection: AbstractSqlConnection): PinnedSession {
  return { query: (sql, params) => connection.execute(sql, params ?? [], 'all') as Promise<any[]>, close: async () => {} };
}

/** PGlite's one session, on the instance itself: several statements in one call when there are no parameters (PostgreSQL's simple protocol). */
function nativeSession(pglite: PGlite): PinnedSession {
  return {
    query: async (sql, params) => {
      if (params && params.length > 0) return (await pglite.query(sql, params)).rows as any[];
      return ((await pglite.exec(sql)).at(-1)?.rows ?? []) as any[];
    },
    close: async () => {},
  };
}

export async function openPglite(dataDir: string, label: string, lock: FileLock | undefined, options: OpenOptions): Promise<Database> {
  const cannotOpen = (error: unknown) => new TributaryError(`Cannot open ${label}: ${describeError(error)}`, { cause: error });
  let pglite: PGlite | undefined;
  try {
    pglite = await PGlite.create(dataDir, { ...embeddedPgliteOptions, parsers: ORM_TYPE_PARSERS });
    if (options.readOnly) await pglite.exec(READ_ONLY);
  } catch (error) {
    await pglite?.close().catch(() => {});
    throw cannotOpen(error);
  }
  const ormOptions = { ...QUIET, dbName: dataDir, entities: options.entities ?? [], driverOptions: { pglite } };
  let orm: PgliteMikroORM | undefined;
  if (ormOptions.entities.length > 0) {
    try {
      orm = await pgliteOrm().MikroORM.init(ormOptions);
    } catch (error) {
      await pglite.close().catch(() => {});
      throw cannotOpen(error);
    }
  }
  // Discovered in the constructor (nothing to discover), as open-postgres.ts does and for the same reason.
  const parts = ormOnFirstUse(() => new (pgliteOrm().MikroORM)({ ...ormOptions, discovery: { ...ormOptions.discovery, skipSyncDiscovery: false } }), orm);
  const native = nativeSession(pglite);
  const session: PinnedSession = { query: (sql, params) => (parts.ormCreated() ? pgliteSession(parts.connection) : native).query(sql, params), close: async () => {} };
  const instance = pglite;
  let closed: Promise<void> | undefined;
  const rest: WithoutOrm = {
    kind: 'pglite',
    label,
    session,
    read: (sql) => session.query(sql),
    entities: NOTHING_TO_LOAD,
    pglite: instance,
    // Once, however often it is called: the ORM (which leaves the instance it was handed open), the instance, the lock.
    close: () =>
      (closed ??= (async () => {
        try {
          if (parts.ormCreated()) await parts.orm.close(true);
        } finally {
          try {
            await instance.close();
          } finally {
            lock?.release();
          }
        }
      })()),
  };
  return Object.assign(parts, rest);
}
