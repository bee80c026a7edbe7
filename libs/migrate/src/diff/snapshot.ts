/**
 * Per-service snapshot shards (`migrations/.snapshots/<service>.json`): the schema the stream
 * has produced for one service — its tables (keyed `schema.table`), the native enum types they
 * use and the schemas they live in — and the migrations of that service it reflects. Shards are
 * derived data: `rebuild.ts` can always recreate them from the stream.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { t, Type, UnknownType } from '@mikro-orm/core';
import { DatabaseSchema, DatabaseTable, type AbstractSqlPlatform } from '@mikro-orm/sql';

/** Bumped when the shape changes: a shard of another format is rebuilt from the stream. */
export const SHARD_FORMAT = 2;

export interface Shard {
  format: typeof SHARD_FORMAT;
  service: string;
  /** Names of this service's migrations whose effect the schema includes, in order. */
  migrations: string[];
  /** MikroORM's serialised `DatabaseSchema`, restricted to this service's tables, enums and schemas. */
  schema: { tables: any[]; nativeEnums: Record<string, any>; namespaces: string[] };
}

export type ShardState = { status: 'ok'; shard: Shard } | { status: 'missing' } | { status: 'unreadable'; reason: string };

/** A table's key (the same as the models' ownership key): `schema.table`, `public` by default. */
export function tableKey(table: { name: string; schema?: string | null }): string {
  return `${table.schema ?? 'public'}.${table.name}`;
}

export function shardPath(snapshotsDir: string, service: string): string {
  return join(snapshotsDir, `${service}.json`);
}

export function readShard(snapshotsDir: string, service: string): ShardState {
  const file = shardPath(snapshotsDir, service);
  if (!existsSync(file)) return { status: 'missing' };
  try {
    const shard = JSON.parse(readFileSync(file, 'utf8')) as Shard;
    if (shard.format !== SHARD_FORMAT) return { status: 'unreadable', reason: `format ${shard.format ?? 1}, expected ${SHARD_FORMAT}` };
    if (shard.service !== service || !Array.isArray(shard.migrations) || !Array.isArray(shard.schema?.tables)) {
      return { status: 'unreadable', reason: 'unexpected content' };
    }
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

/**
 * Serialises the tables of `schema` that `owned` accepts (by `schema.table` key), in MikroORM's
 * own JSON form, with only the native enums those tables use and the schemas they live in.
 */
export function serializeTables(schema: DatabaseSchema, owned: (key: string) => boolean): Shard['schema'] {
  const json = JSON.parse(JSON.stringify(schema));
  return withTables(json.tables.filter((table: any) => owned(tableKey(table))), json.nativeEnums ?? {});
}

/** A shard schema of exactly `tables`, with the native enums (from `nativeEnums`) they use and the schemas they live in. */
export function withTables(tables: any[], nativeEnums: Record<string, any>): Shard['schema'] {
  return { tables, ...usedBy(tables, nativeEnums) };
}

function usedBy(tables: any[], allEnums: Record<string, any>): Omit<Shard['schema'], 'tables'> {
  const nativeEnums = enumsUsedBy(tables, allEnums);
  const namespaces = new Set<string>(['public']);
  for (const table of tables) namespaces.add(table.schema ?? 'public');
  for (const nativeEnum of Object.values<any>(nativeEnums)) if (nativeEnum.schema && nativeEnum.schema !== '*') namespaces.add(nativeEnum.schema);
  return { nativeEnums, namespaces: [...namespaces].sort() };
}

/** The entries of `nativeEnums` (keyed `name` or `schema.name`) that a column of `tables` has as its type. */
function enumsUsedBy(tables: any[], nativeEnums: Record<string, any>): Record<string, any> {
  const used = new Set<string>();
  for (const table of tables) {
    for (const column of Object.values<any>(table.columns)) {
      for (const name of [column.nativeEnumName, column.type]) {
        if (typeof name === 'string') used.add(name.replace(/\[\]$/, '').replaceAll('"', ''));
      }
    }
  }
  const isUsed = (key: string, value: any) => used.has(key) || used.has(`${value.schema}.${value.name}`) || (value.schema === 'public' && used.has(value.name));
  return Object.fromEntries(Object.entries(nativeEnums).filter(([key, value]) => isUsed(key, value)));
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
      table.addColumn({ ...column, type: withoutDefaultPrecision(column.type), mappedType: Type.getType((t as any)[column.mappedType] ?? UnknownType) });
    }
    return table;
  });
  schema.setTables(tables);
  schema.setNamespaces(new Set(shard.namespaces ?? ['public']));
  schema.setNativeEnums(nativeEnums);
  return schema;
}

/**
 * MikroORM's snapshot JSON spells a plain `timestamptz` as `timestamptz(6)` (6 is PostgreSQL's
 * default precision): a table re-created from a shard (a rollback of a drop) must come back as it
 * was created, plain.
 */
function withoutDefaultPrecision(type: string | undefined): string | undefined {
  return type?.replace(/^(timestamptz|timestamp|timetz|time)\(6\)$/i, '$1');
}
