/**
 * The gateway's own database connection: a MikroORM it configures itself — a pool of at most
 * `DB_POOL_MAX` connections and no global context (every request forks the entity manager) — on
 * `DATABASE_URL`, or on the embedded PGlite database, which it locks for itself while open. The
 * boot check borrows it (`db`); migrations on `MIGRATION_DATABASE_URL` never touch it.
 */
import type { EntitySchema } from '@mikro-orm/core';
import { MikroORM as PgliteMikroORM } from '@mikro-orm/pglite';
import { MikroORM as PostgreSqlMikroORM } from '@mikro-orm/postgresql';
import {
  adoptOrm,
  describeError,
  describeTarget,
  ensureEmbeddedDatabase,
  embeddedPgliteOptions,
  lockEmbeddedDatabase,
  TributaryError,
  type Database,
  type TributaryConfig,
} from '@tributary/migrate/boot';

export interface AppDatabase {
  orm: PostgreSqlMikroORM | PgliteMikroORM;
  /** The same connection as the boot check and `/health` read through it (`label` names it). */
  db: Database;
  /** Returns what the boot check borrowed, closes the pool, and unlocks the embedded database. */
  close(): Promise<void>;
}

export interface AppDatabaseOptions {
  entities: EntitySchema<any, any>[];
  poolMax: number;
}

export async function openAppDatabase(config: TributaryConfig, options: AppDatabaseOptions): Promise<AppDatabase> {
  const label = describeTarget(config);
  const lock = config.databaseUrl ? undefined : lockEmbeddedDatabase(config.pgliteDir, label);
  let open: PostgreSqlMikroORM | PgliteMikroORM | undefined;
  try {
    open = await initOrm(config, options);
    await open.em.getConnection().execute('select 1');
  } catch (error) {
    await open?.close(true).catch(() => {});
    lock?.release();
    throw new TributaryError(`Cannot ${config.databaseUrl ? 'connect to' : 'open'} ${label}: ${describeError(error) || (error as NodeJS.ErrnoException).code}`, { cause: error });
  }
  const orm = open;
  const db = adoptOrm(orm, label);
  return {
    orm,
    db,
    close: async () => {
      await db.close();
      await orm.close(true);
      lock?.release();
    },
  };
}

async function initOrm(config: TributaryConfig, options: AppDatabaseOptions): Promise<PostgreSqlMikroORM | PgliteMikroORM> {
  if (!config.databaseUrl) {
    ensureEmbeddedDatabase(config);
    const embedded: PgliteMikroORM = await PgliteMikroORM.init({ dbName: config.pgliteDir, entities: options.entities, driverOptions: embeddedPgliteOptions });
    return embedded;
  }
  const postgres: PostgreSqlMikroORM = await PostgreSqlMikroORM.init({ clientUrl: config.databaseUrl, entities: options.entities, pool: { min: 0, max: options.poolMax } });
  return postgres;
}
