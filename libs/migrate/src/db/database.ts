/**
 * What every open database is, whichever way it was opened: the ORM (for migrations'
 * transactions), the one pinned session outside any transaction (the advisory lock,
 * non-transactional SQL), and whether the ORM knows the workspace's entities.
 */
import type { EntitySchema } from '@mikro-orm/core';
import type { MikroORM as PostgreSqlMikroORM } from '@mikro-orm/postgresql';
import type { MikroORM as PgliteMikroORM } from '@mikro-orm/pglite';
import type { AbstractSqlConnection, AbstractSqlDriver } from '@mikro-orm/sql';

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

/** A second client of the same database, outside the pinned session (see pooler.ts). */
export interface OtherSession {
  query(sql: string): Promise<any[]>;
  /** Gives it back; `broken` when it must not be reused. */
  release(broken?: boolean): void;
}

export interface Database {
  kind: 'postgresql' | 'pglite';
  /** Where the data lives, for messages: `PostgreSQL 127.0.0.1:5432/app` or `embedded PGlite (.data/pglite)`. */
  label: string;
  orm: PostgreSqlMikroORM | PgliteMikroORM;
  driver: AbstractSqlDriver;
  connection: AbstractSqlConnection;
  session: PinnedSession;
  /**
   * One plain statement outside any transaction, its rows as the driver gives them: on the pinned
   * session where it is this run's own, on the app's pool otherwise (nothing stays pinned from a
   * `/health` request). No ORM in between.
   */
  read(sql: string): Promise<any[]>;
  /** Opens a second session of the same database (PostgreSQL only). */
  otherSession?: () => Promise<OtherSession>;
  entities: EntityRegistry;
  /** False while the ORM is still to be created on first use (it then knows no entities yet). */
  ormCreated?: () => boolean;
  /** The PGlite instance itself, when this run opened it (backups use it without creating the ORM). */
  pglite?: import('@electric-sql/pglite').PGlite;
  close(): Promise<void>;
}

/** The same database with some of its parts replaced; an ORM still to be created stays so. */
export function withParts(db: Database, parts: Partial<Database>): Database {
  const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(db)) as Database;
  return replaceParts(copy, parts);
}

/** Replaces parts of `db` in place (getters included). */
export function replaceParts(db: Database, parts: Partial<Database>): Database {
  for (const [key, value] of Object.entries(parts)) Object.defineProperty(db, key, { value, writable: true, enumerable: true, configurable: true });
  return db;
}

export interface OpenOptions {
  /** Entities to register, so migrations can use `this.getEntityManager()`. */
  entities?: EntitySchema<any, any>[];
  /** Use a throw-away in-memory PGlite database (shard rebuilds, tests). */
  memory?: boolean;
  /** Every session read-only (dry runs): nothing can write, inside or outside a transaction. */
  readOnly?: boolean;
}

export const NOTHING_TO_LOAD: EntityRegistry = { ready: true, load: async () => {} };

/** MikroORM options every database of ours is opened with. */
export const QUIET = { discovery: { warnWhenNoEntities: false }, allowGlobalContext: true } as const;

/** The driver and connection of an ORM, as the SQL layer's types (the ORM's own types are per dialect). */
export function sqlParts(orm: PostgreSqlMikroORM | PgliteMikroORM): { driver: AbstractSqlDriver; connection: AbstractSqlConnection } {
  return { driver: orm.em.getDriver() as unknown as AbstractSqlDriver, connection: orm.em.getConnection() as unknown as AbstractSqlConnection };
}

/** The ORM parts of a database: `created` when opened with one, else made by `create` when first asked for (most runs never are). */
export type OrmOnFirstUse<O extends Database['orm']> = Pick<Database, 'driver' | 'connection'> & { readonly orm: O; ormCreated(): boolean };

/** A database's parts other than those `ormOnFirstUse` gives. */
export type WithoutOrm = Omit<Database, 'orm' | 'driver' | 'connection' | 'ormCreated'>;

export function ormOnFirstUse<O extends Database['orm']>(create: () => O, created?: O): OrmOnFirstUse<O> {
  let orm = created;
  const ormOf = () => (orm ??= create());
  return {
    get orm() {
      return ormOf();
    },
    get driver() {
      return sqlParts(ormOf()).driver;
    },
    get connection() {
      return sqlParts(ormOf()).connection;
    },
    ormCreated: () => orm !== undefined,
  };
}
