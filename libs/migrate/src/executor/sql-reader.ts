/**
 * Reads a migration's SQL without running any query of its own (lint, plan, rollback's checks,
 * squash, the shard rebuild): up()/down() run against a MikroORM that cannot connect, `addSql`
 * collects, a query it sends is noted and answers no rows, and its console output is held back.
 */
import type { Migration } from '@mikro-orm/migrations';
import type { AbstractSqlConnection, AbstractSqlDriver } from '@mikro-orm/sql';
import type { Database } from '../db/connection.ts';
import { postgresqlOrm } from '../db/orm-modules.ts';
import { TributaryError } from '../errors.ts';
import type { MigrationDefinition } from '../stream/migration-file.ts';
import { holdingConsole } from './console-hold.ts';
import { guardEntityManager } from './entities-on-demand.ts';
import { interceptingQueries, noRows, sqlText } from './query-intercept.ts';
import type { Direction } from './run-options.ts';

export interface CollectedSql {
  statements: string[];
  /** Queries up()/down() sent itself (`this.execute()`, the entity manager), in order. */
  directQueries: string[];
  /** Dry run: those of them that would write, refused by its read-only transaction (the others were reads and ran). */
  wouldWrite?: string[];
  /** Dry run: up()/down() failed after a write it was refused (its error), so what it would do next is not known. */
  stoppedAfterWrite?: string;
}

/** A migration ready to run on `db`; its entity manager knows every service's entities (see entities-on-demand.ts). */
export function instantiate(db: Pick<Database, 'driver' | 'orm' | 'entities'>, definition: MigrationDefinition): Migration {
  const migration = new definition.migrationClass(db.driver as any, db.orm.config as any);
  migration.name = definition.entry.name;
  guardEntityManager(db, migration);
  return migration;
}


interface Collected extends CollectedSql {
  /** It sent a query or asked for the entity manager: answered with no rows, or refused. */
  reachedForDatabase: boolean;
  /** up()/down() failed; after reaching for the database, its SQL is known only up to there. */
  error?: unknown;
}

let reader: Pick<Database, 'driver' | 'orm'> | undefined;

/**
 * A MikroORM for reading migrations' SQL (one per process): `addSql` works, and a query answers
 * no rows (see `collectWithoutQueries`); it has no server to connect to, and refuses to try.
 */
export function sqlReader(): Pick<Database, 'driver' | 'orm'> {
  return (reader ??= newSqlReader());
}

function newSqlReader(): Pick<Database, 'driver' | 'orm'> {
  const orm = new (postgresqlOrm().MikroORM)({ dbName: 'tributary_offline', host: '/nonexistent/tributary-offline', discovery: { warnWhenNoEntities: false }, allowGlobalContext: true, entities: [] });
  orm.em.getConnection().connect = async () => {
    throw new TributaryError("reading a migration's SQL needs no database, and runs none of its queries");
  };
  return { driver: orm.em.getDriver() as unknown as AbstractSqlDriver, orm };
}


/**
 * What up()/down() collects with `addSql`, running no query of its own and printing nothing:
 * every query it sends (`this.execute()`, the entity manager's) is noted and answers no rows.
 */
export async function collectWithoutQueries(db: Pick<Database, 'driver' | 'orm'>, definition: MigrationDefinition, direction: Direction): Promise<Collected> {
  const migration = new definition.migrationClass(db.driver as any, db.orm.config as any);
  migration.name = definition.entry.name;
  const directQueries: string[] = [];
  let reachedForDatabase = false;
  const getEntityManager = migration.getEntityManager;
  migration.getEntityManager = function (this: Migration) {
    reachedForDatabase = true;
    return getEntityManager.call(this);
  } as Migration['getEntityManager'];
  const answerNoRows = async (query: { sql: string; method: string }) => {
    reachedForDatabase = true;
    directQueries.push(query.sql);
    return noRows(query.method);
  };
  const run = await interceptingQueries(db.driver.getConnection() as AbstractSqlConnection, answerNoRows, () => holdingConsole(async () => migration[direction]()));
  return { statements: migration.getQueries().map(sqlText), directQueries, reachedForDatabase, ...(run.ok ? {} : { error: run.error }) };
}

/** What a migration would run, read without a database and without running any query of its own (lint, rollback's checks). */
export async function collectSql(db: Pick<Database, 'driver' | 'orm'>, definition: MigrationDefinition, direction: Direction): Promise<CollectedSql> {
  const { statements, directQueries, error } = await collectWithoutQueries(db, definition, direction);
  if (error !== undefined) throw error;
  return { statements, directQueries };
}

