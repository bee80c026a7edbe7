/**
 * Opens the database a run works on: PostgreSQL when `DATABASE_URL` is set, otherwise the
 * embedded PGlite database in `.data/pglite/` (held by one process at a time). It also opens
 * the one pinned session that holds the advisory lock and runs non-transactional SQL, and
 * registers the workspace's entities with the ORM when a data migration first needs them.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import type { EntitySchema } from '@mikro-orm/core';
import { MikroORM as PostgreSqlMikroORM } from '@mikro-orm/postgresql';
import { MikroORM as PgliteMikroORM, PgliteConnection } from '@mikro-orm/pglite';
import type { AbstractSqlConnection, AbstractSqlDriver } from '@mikro-orm/sql';
import pg from 'pg';
import type { TributaryConfig } from '../config/config.ts';
import { TributaryError, describeError } from '../errors.ts';
import { describeTarget, ensureEmbeddedDatabase } from './embedded.ts';
import { acquireFileLock, type FileLock } from './file-lock.ts';

export { describeTarget, embeddedDatabaseExists } from './embedded.ts';

/** One connection outside any transaction: for the advisory lock and non-transactional SQL. */
export interface PinnedSession {
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** MikroORM options giving it every service's entities (schemas or decorated classes, and their metadata provider). */
export interface EntityDiscovery {
  entities: Array<EntitySchema<any, any> | (abstract new (...args: any[]) => object)>;
  metadataProvider?: unknown;
}

/** Loads the entities when first asked for. */
export type EntityLoader = () => Promise<EntityDiscovery>;

/** Whether the ORM knows the workspace's entities, so that `getEntityManager()` can use them. */
export interface EntityRegistry {
  /** Opened with them, registered since, or nothing to register. */
  readonly ready: boolean;
  /** Registers them with the open ORM; once (later calls share the first). */
  load(): Promise<void>;
}

export interface Database {
  kind: 'postgresql' | 'pglite';
  /** Where the data lives, for messages: `PostgreSQL 127.0.0.1:5432/app` or `embedded PGlite (.data/pglite)`. */
  label: string;
  orm: PostgreSqlMikroORM | PgliteMikroORM;
  driver: AbstractSqlDriver;
  connection: AbstractSqlConnection;
  session: PinnedSession;
  entities: EntityRegistry;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Entities to register, so migrations can use `this.getEntityManager()`. */
  entities?: EntitySchema<any, any>[];
  /** Use a throw-away in-memory PGlite database (shard rebuilds, tests). */
  memory?: boolean;
  /** Every session read-only (dry runs): nothing can write, inside or outside a transaction. */
  readOnly?: boolean;
}

const READ_ONLY = 'set default_transaction_read_only = on';

/**
 * PGlite options for the embedded database (MikroORM's `driverOptions`). PostgreSQL's default
 * 128 MB of shared buffers live in PGlite's WebAssembly memory and are all touched at start: 16 MB
 * holds a development database and saves ~120 MB of resident memory on every open.
 */
export const embeddedPgliteOptions = { startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'] };
const nothingToLoad: EntityRegistry = { ready: true, load: async () => {} };

/**
 * The same database, whose ORM learns the workspace's entities from `load` the first time a
 * migration asks for the entity manager; most runs never do, and never load a model file. An
 * ORM that already knows entities (the gateway's) is left as it is.
 */
export function withEntitiesOnDemand(db: Database, load: EntityLoader): Database {
  if (db.orm.getMetadata().getAll().size > 0) return db;
  let ready = false;
  let loading: Promise<void> | undefined;
  const onDemand: Database = {
    ...db,
    entities: {
      get ready() {
        return ready;
      },
      load: () => (loading ??= register()),
    },
  };
  const register = async () => {
    const forked = await forkWithEntities(db, await load());
    // From now on migrations are made with the fork's driver: same connections, and the entities.
    Object.assign(onDemand, { orm: forked, driver: forked.em.getDriver(), connection: forked.em.getConnection() });
    ready = true;
  };
  return onDemand;
}

/**
 * A second MikroORM over the same connections (it reuses the open ORM's Kysely client, so its
 * transactions are the same transactions), discovered with the entities as the app's own
 * config would (decorated classes need their metadata provider). It is never closed itself:
 * closing the first one closes the connections both use.
 */
async function forkWithEntities(db: Database, discovery: EntityDiscovery): Promise<Database['orm']> {
  const config = db.orm.config as { get(key: string): any };
  const options = { ...quiet, ...(discovery as any), driverOptions: db.connection.getClient(), dbName: config.get('dbName') };
  try {
    if (db.kind === 'pglite') return (await PgliteMikroORM.init(options)) as Database['orm'];
    return (await PostgreSqlMikroORM.init({ ...options, clientUrl: config.get('clientUrl') })) as Database['orm'];
  } catch (error) {
    if (error instanceof TributaryError) throw error;
    throw new TributaryError(`The models could not be registered for the entity manager of data migrations: ${describeError(error)}`, { cause: error });
  }
}

const quiet = { discovery: { warnWhenNoEntities: false }, allowGlobalContext: true } as const;

export async function openDatabase(config: TributaryConfig, options: OpenOptions = {}): Promise<Database> {
  if (options.memory) return openPglite(config, 'memory://', 'in-memory PGlite', undefined, options);
  if (!config.databaseUrl) {
    mkdirSync(dirname(config.pgliteDir), { recursive: true });
    const lock = acquireFileLock(`${config.pgliteDir}.lock`, describeTarget(config));
    try {
      ensureEmbeddedDatabase(config);
      return await openPglite(config, config.pgliteDir, describeTarget(config), lock, options);
    } catch (error) {
      lock.release();
      throw error;
    }
  }
  return openPostgres(config, options);
}

async function openPostgres(config: TributaryConfig, options: OpenOptions): Promise<Database> {
  const label = describeTarget(config);
  // `-c default_transaction_read_only=on` is a startup parameter of every session the pool opens.
  const readOnly = options.readOnly ? { options: '-c default_transaction_read_only=on' } : {};
  const orm = await PostgreSqlMikroORM.init({ ...quiet, clientUrl: config.databaseUrl, entities: options.entities ?? [], pool: { min: 0, max: 4 }, driverOptions: readOnly });
  const connection = orm.em.getConnection() as unknown as AbstractSqlConnection;
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
    driver: orm.em.getDriver() as unknown as AbstractSqlDriver,
    connection,
    session: {
      query: async (sql, params) => (await client.query(sql, params as any[])).rows,
      close: () => client.end(),
    },
    entities: nothingToLoad,
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

async function openPglite(config: TributaryConfig, dataDir: string, label: string, lock: FileLock | undefined, options: OpenOptions): Promise<Database> {
  let orm: PgliteMikroORM;
  try {
    orm = await PgliteMikroORM.init({ ...quiet, dbName: dataDir, entities: options.entities ?? [], driverOptions: embeddedPgliteOptions });
    await orm.em.getConnection().execute(options.readOnly ? READ_ONLY : 'select 1');
  } catch (error) {
    throw new TributaryError(`Cannot open ${label}: ${describeError(error)}`, { cause: error });
  }
  const connection = orm.em.getConnection() as unknown as AbstractSqlConnection;
  return {
    kind: 'pglite',
    label,
    orm,
    driver: orm.em.getDriver() as unknown as AbstractSqlDriver,
    connection,
    // PGlite is a single session: the ORM's connection is the pinned one.
    session: { query: (sql, params) => connection.execute(sql, params ?? [], 'all') as Promise<any[]>, close: async () => {} },
    entities: nothingToLoad,
    close: async () => {
      await orm.close(true);
      lock?.release();
    },
  };
}

/**
 * Wraps an app's already-connected MikroORM (PostgreSQL or PGlite) as a `Database`, so the boot
 * check reuses its connection instead of opening another. The pinned session is a client taken
 * from the ORM's own pool on first use; `close()` returns it and leaves the ORM to its owner.
 */
export function adoptOrm(orm: PostgreSqlMikroORM | PgliteMikroORM, label = 'the application database'): Database {
  const connection = orm.em.getConnection() as unknown as AbstractSqlConnection;
  const base = { label, orm, driver: orm.em.getDriver() as unknown as AbstractSqlDriver, connection, entities: nothingToLoad };
  if (connection instanceof PgliteConnection) {
    const session: PinnedSession = { query: (sql, params) => connection.execute(sql, params ?? [], 'all') as Promise<any[]>, close: async () => {} };
    return { ...base, kind: 'pglite', session, close: async () => {} };
  }
  let client: Promise<pg.PoolClient> | undefined;
  const pinned = () => (client ??= (connection.getNativeClient() as Promise<pg.Pool>).then((pool) => pool.connect()));
  const release = async () => {
    if (client) (await client.catch(() => undefined))?.release();
    client = undefined;
  };
  return {
    ...base,
    kind: 'postgresql',
    session: { query: async (sql, params) => (await (await pinned()).query(sql, params as any[])).rows, close: release },
    close: release,
  };
}

/** Runs `fn` with the database open, closing it afterwards whatever happens. */
export async function withDatabase<T>(config: TributaryConfig, fn: (db: Database) => Promise<T>, options: OpenOptions = {}): Promise<T> {
  const db = await openDatabase(config, options);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
