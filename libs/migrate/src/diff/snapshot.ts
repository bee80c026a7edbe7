/**
 * Per-service snapshot shards (`migrations/.snapshots/<service>.json`): the schema the stream
 * has produced for one service's tables, the migrations of that service it reflects, and which
 * migration created each table (for cross-service `dependsOn`). Shards are derived data:
 * `rebuild.ts` can always recreate them from the stream.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { t, Type, UnknownType } from '@mikro-orm/core';
import { DatabaseSchema, DatabaseTable, type AbstractSqlPlatform } from '@mikro-orm/sql';

export interface Shard {
  service: string;
  /** Names of this service's migrations whose effect the schema includes, in order. */
  migrations: string[];
  /** Table name → the migration that created it. */
  createdBy: Record<string, string>;
  /** MikroORM's serialised `DatabaseSchema`, restricted to this service's tables. */
  schema: { tables: any[]; nativeEnums?: Record<string, any>; namespaces?: string[] };
}

export type ShardState = { status: 'ok'; shard: Shard } | { status: 'missing' } | { status: 'unreadable'; reason: string };

export function shardPath(snapshotsDir: string, service: string): string {
  return join(snapshotsDir, `${service}.json`);
}

export function readShard(snapshotsDir: string, service: string): ShardState {
  const file = shardPath(snapshotsDir, service);
  if (!existsSync(file)) return { status: 'missing' };
  try {
    const shard = JSON.parse(readFileSync(file, 'utf8')) as Shard;
    if (shard.service !== service || !Array.isArray(shard.migrations) || !Array.isArray(shard.schema?.tables)) {
      return { status: 'unreadable', reason: 'unexpected content' };
    }
    shard.createdBy ??= {};
    return { status: 'ok', shard };
  } catch (error) {
    // Typically git conflict markers after a merge: the stream can rebuild it.
    return { status: 'unreadable', reason: (error as Error).message };
  }
}

export function writeShard(snapshotsDir: string, shard: Shard): void {
  mkdirSync(snapshotsDir, { recursive: true });
  writeFileSync(shardPath(snapshotsDir, shard.service), `${JSON.stringify(shard, null, 2)}\n`);
}

export function shardServices(snapshotsDir: string): string[] {
  if (!existsSync(snapshotsDir)) return [];
  return readdirSync(snapshotsDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
}

/** Serialises the tables of `schema` named in `tables` (MikroORM's own JSON form). */
export function serializeTables(schema: DatabaseSchema, tables: (name: string) => boolean): Shard['schema'] {
  const json = JSON.parse(JSON.stringify(schema));
  return { tables: json.tables.filter((table: any) => tables(table.name)), nativeEnums: json.nativeEnums ?? {} };
}

/** Rebuilds a `DatabaseSchema` from a shard, the way MikroORM's Migrator reads its snapshot. */
export function schemaFromShard(shard: Shard['schema'] | undefined, platform: AbstractSqlPlatform): DatabaseSchema {
  const schema = new DatabaseSchema(platform, 'public');
  if (!shard) return schema;
  const nativeEnums = shard.nativeEnums ?? {};
  const tables = shard.tables.map((tbl) => {
    const table = new DatabaseTable(platform, tbl.name, tbl.schema);
    table.nativeEnums = nativeEnums;
    table.comment = tbl.comment;
    if (tbl.indexes) table.setIndexes(tbl.indexes);
    if (tbl.checks) table.setChecks(tbl.checks);
    if (tbl.foreignKeys) table.setForeignKeys(tbl.foreignKeys);
    if (tbl.triggers) table.setTriggers(tbl.triggers);
    for (const column of Object.values<any>(tbl.columns)) {
      table.addColumn({ ...column, mappedType: Type.getType((t as any)[column.mappedType] ?? UnknownType) });
    }
    return table;
  });
  schema.setTables(tables);
  schema.setNamespaces(new Set(shard.namespaces ?? ['public']));
  schema.setNativeEnums(nativeEnums);
  return schema;
}

export function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
