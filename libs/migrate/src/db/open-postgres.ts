/**
 * Opens PostgreSQL at `DATABASE_URL`: one pinned `pg` client outside any transaction for the
 * advisory lock, the history and the SQL of generated migrations, and MikroORM with a small pool
 * for migrations' transactions — created when first used (with no entities to register), since
 * applying generated migrations never needs it. A dry run opens every session read-only.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM as PostgreSqlMikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { TributaryConfig } from '../config/config.ts';
import { TributaryError, describeError } from '../errors.ts';
import { NOTHING_TO_LOAD, ormOnFirstUse, QUIET, sqlParts, type Database, type OpenOptions, type WithoutOrm, type OtherSession } from './database.ts';
import { describeTarget } from './embedded.ts';
import { postgresqlOrm } from './orm-modules.ts';

export async function openPostgres(config: TributaryConfig, options: OpenOptions): Promise<Database> {
  const label = describeTarget(config);
  // `-c default_transaction_read_only=on` is a startup parameter of every session opened.
  const readOnly = options.readOnly ? { options: '-c default_transaction_read_only=on' } : {};
  const ormOptions = { ...QUIET, clientUrl: config.databaseUrl, entities: options.entities ?? [], pool: { min: 0, max: 4 }, driverOptions: readOnly };
  const cannotConnect = (error: unknown) => new TributaryError(`Cannot connect to ${label}: ${describeError(error) || (error as any).code}`, { cause: error });
  const newClient = () => new pg.Client({ connectionString: config.databaseUrl, application_name: 'tributary', ...readOnly });
  const client = newClient();
  let orm: PostgreSqlMikroORM | undefined;
  try {
    await client.connect();
    // An app's entities are discovered at once (and their errors said at once); otherwise on first use.
    if (ormOptions.entities.length > 0) {
      orm = await postgresqlOrm().MikroORM.init(ormOptions);
      await sqlParts(orm).connection.execute('select 1');
    }
  } catch (error) {
    await orm?.close(true).catch(() => {});
    await client.end().catch(() => {});
    throw cannotConnect(error);
  }
  client.on('error', () => {}); // a dropped session surfaces on the next query instead
  // Discovered in the constructor (nothing to discover): `init()` elsewhere in the process sets
  // skipSyncDiscovery on the options' shared discovery object, which would leave this ORM without
  // its entity manager.
  const parts = ormOnFirstUse(() => new (postgresqlOrm().MikroORM)({ ...ormOptions, discovery: { ...ormOptions.discovery, skipSyncDiscovery: false } }), orm);
  const rest: WithoutOrm = {
    kind: 'postgresql',
    label,
    session: {
      query: async (sql, params) => (await client.query(sql, params as any[])).rows,
      close: () => client.end(),
    },
    read: async (sql) => (await client.query(sql)).rows,
    otherSession: async (): Promise<OtherSession> => {
      const other = newClient();
      other.on('error', () => {});
      await other.connect().catch((error) => Promise.reject(cannotConnect(error)));
      return { query: async (sql) => (await other.query(sql)).rows, release: () => void other.end().catch(() => {}) };
    },
    entities: NOTHING_TO_LOAD,
    close: async () => {
      await client.end().catch(() => {});
      if (!parts.ormCreated()) return;
      // After the server killed a session mid-transaction (restart, failover, pg_terminate_backend),
      // the pool waits forever for that client: bound the wait so the real error gets reported.
      const bound = new AbortController();
      await Promise.race([parts.orm.close(true), sleep(2000, undefined, { signal: bound.signal }).catch(() => {})]);
      bound.abort();
    },
  };
  return Object.assign(parts, rest);
}
