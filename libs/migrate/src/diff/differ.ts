/**
 * Compares one service's models with its shard and produces the SQL that moves the database
 * from the shard's schema to the models' (and back), for that service's tables only.
 */
import { DatabaseSchema, SchemaComparator, type AbstractSqlPlatform } from '@mikro-orm/sql';
import type { ModelSet } from '../models/model-set.ts';
import { schemaFromShard, type Shard } from './snapshot.ts';

export interface ServiceDiff {
  service: string;
  up: string[];
  down: string[];
  /** The models' schema for the service, to store as its new shard. */
  target: DatabaseSchema;
  /** Tables of other services that foreign keys of this service's tables point to. */
  foreignTables: Set<string>;
  createdTables: string[];
  droppedTables: string[];
}

export function targetSchema(models: ModelSet, service: string): DatabaseSchema {
  const { orm } = models;
  return DatabaseSchema.fromMetadata(models.metadataOf(service), orm.em.getPlatform() as AbstractSqlPlatform, orm.config as any, 'public', orm.em);
}

/** `upOnly`: skip the down SQL (read-only checks only ask whether there is an up). */
export function diffService(models: ModelSet, service: string, shard: Shard | undefined, upOnly = false): ServiceDiff {
  const platform = models.orm.em.getPlatform() as AbstractSqlPlatform;
  const from = schemaFromShard(shard?.schema, platform);
  const to = targetSchema(models, service);
  const comparator = new SchemaComparator(platform);
  const upDiff = comparator.compare(from, to);
  const downDiff = upOnly ? undefined : comparator.compare(to, from, upDiff);
  const toSql = (diff: typeof upDiff) => splitStatements((models.orm.schema as any).diffToSQL(diff, { wrap: false, safe: false, dropTables: true }));

  // Only foreign keys this migration adds need the referenced table to exist first.
  const addedForeignKeys = [
    ...Object.values(upDiff.newTables).flatMap((table) => Object.values(table.getForeignKeys())),
    ...Object.values(upDiff.changedTables).flatMap((table) => [...Object.values(table.addedForeignKeys), ...Object.values(table.changedForeignKeys)]),
  ];
  const foreignTables = new Set<string>();
  for (const fk of addedForeignKeys) {
    const referenced = fk.referencedTableName.replace(/^public\./, '');
    if (models.owners.get(referenced) !== service) foreignTables.add(referenced);
  }
  return {
    service,
    up: toSql(upDiff),
    down: downDiff ? toSql(downDiff) : [],
    target: to,
    foreignTables,
    createdTables: Object.values(upDiff.newTables).map((t) => t.name),
    droppedTables: Object.values(upDiff.removedTables).map((t) => t.name),
  };
}

/**
 * Splits generated SQL into statements on `;` + newline, keeping semicolons inside string
 * literals (the same rule as MikroORM's Migrator), and drops blank groups.
 */
export function splitStatements(sql: string): string[] {
  const result: string[] = [];
  let buffer = '';
  for (const chunk of sql.split(/;\n/)) {
    buffer += (buffer ? ';\n' : '') + chunk;
    if (buffer.split(`'`).length % 2 === 0) continue; // inside a string literal
    const statement = buffer.trim();
    if (statement) result.push(statement.endsWith(';') ? statement : `${statement};`);
    buffer = '';
  }
  return result;
}
