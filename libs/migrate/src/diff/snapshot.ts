/**
 * Per-service snapshot shards (`migrations/.snapshots/<service>/<migration>.json`): the schema the
 * stream has produced for one service — its tables (keyed `schema.table`), the native enum types
 * they use and the schemas they live in — and the migrations of that service it reflects, with
 * their checksums. A shard file is written once: a new state is a new file (named after the
 * newest migration it reflects), and the service's older files are emptied — never deleted, never
 * changed otherwise. So two branches that each add a migration for one service merge in git
 * without a conflict: two new files, and the same old file emptied on both sides. (Deleting it
 * would not do: git takes a deleted file plus a similar new one for a rename, and two branches
 * renaming one file conflict.) Shards are derived data: `rebuild.ts` can always recreate them.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { t, Type, UnknownType } from '@mikro-orm/core';
import { DatabaseSchema, DatabaseTable, type AbstractSqlPlatform } from '@mikro-orm/sql';

/** Bumped when the shape changes: a shard of another format is rebuilt from the stream. */
export const SHARD_FORMAT = 3;

export interface Shard {
  format: typeof SHARD_FORMAT;
  service: string;
  /** Names of this service's migrations whose effect the schema includes, in order. */
  migrations: string[];
  /** Each of those migrations' checksum when the shard was made: an edited migration makes the shard stale. */
  checksums: Record<string, string>;
  /** MikroORM's serialised `DatabaseSchema`, restricted to this service's tables, enums and schemas. */
  schema: { tables: any[]; nativeEnums: Record<string, any>; namespaces: string[] };
}

export type ShardState = { status: 'ok'; shard: Shard } | { status: 'missing' } | { status: 'unreadable'; reason: string };

/** A table's key (the same as the models' ownership key): `schema.table`, `public` by default. */
export function tableKey(table: { name: string; schema?: string | null }): string {
  return `${table.schema ?? 'public'}.${table.name}`;
}

/** The folder of one service's shard files. */
export function shardDir(snapshotsDir: string, service: string): string {
  return join(snapshotsDir, service);
}

/** Where format 2 kept a service's one shard; read as stale, deleted when the service's shard is next written. */
function legacyShardPath(snapshotsDir: string, service: string): string {
  return join(snapshotsDir, `${service}.json`);
}

/** The shard files of `service` (emptied ones left out): one normally, several after a merge of branches that each changed it. */
export function readShards(snapshotsDir: string, service: string): Array<{ file: string; state: ShardState }> {
  return shardFiles(snapshotsDir, service).map((file) => ({ file, state: parseShard(file, service) }));
}

/** The paths of the shard files of `service` (emptied ones left out), without reading them. */
export function shardFiles(snapshotsDir: string, service: string): string[] {
  const dir = shardDir(snapshotsDir, service);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f)) : [];
  if (existsSync(legacyShardPath(snapshotsDir, service))) files.push(legacyShardPath(snapshotsDir, service));
  return files.filter((file) => statSync(file).size > 0);
}

/** The service's shard when it has exactly one readable shard file. */
export function readShard(snapshotsDir: string, service: string): ShardState {
  const files = readShards(snapshotsDir, service);
  if (files.length === 0) return { status: 'missing' };
  if (files.length > 1) return { status: 'unreadable', reason: `${files.length} shard files (branches merged)` };
  return files[0]!.state;
}

function parseShard(file: string, service: string): ShardState {
  try {
    const shard = JSON.parse(readFileSync(file, 'utf8')) as Shard;
    if (shard.format !== SHARD_FORMAT) return { status: 'unreadable', reason: `format ${shard.format ?? 1}, expected ${SHARD_FORMAT}` };
    if (shard.service !== service || !Array.isArray(shard.migrations) || typeof shard.checksums !== 'object' || !Array.isArray(shard.schema?.tables)) {
      return { status: 'unreadable', reason: 'unexpected content' };
    }
    return { status: 'ok', shard };
  } catch (error) {
    return { status: 'unreadable', reason: (error as Error).message };
  }
}

/**
 * Writes `shard` as a new file of its service and empties the service's other shard files. The
 * file is named after the newest migration the shard reflects; when that name already holds other
 * content (a rebuild, an ownership transfer), a hash of the content is added, so no file is ever
 * given new content in place (two branches doing so differently would conflict).
 */
export function writeShard(snapshotsDir: string, shard: Shard): void {
  const dir = shardDir(snapshotsDir, shard.service);
  const stale = readShards(snapshotsDir, shard.service).map((s) => s.file);
  const newest = shard.migrations.at(-1);
  let kept: string | undefined;
  if (newest) {
    const content = `${JSON.stringify(shard, null, 2)}\n`;
    kept = join(dir, `${newest}.json`);
    if (existsSync(kept) && readFileSync(kept, 'utf8') !== content) {
      kept = join(dir, `${newest}.${createHash('sha256').update(content).digest('hex').slice(0, 8)}.json`);
    }
    mkdirSync(dir, { recursive: true });
    writeFileSync(kept, content);
  }
  for (const file of stale) {
    if (file === kept) continue;
    if (file === legacyShardPath(snapshotsDir, shard.service)) rmSync(file, { force: true });
    else writeFileSync(file, '');
  }
}

/** Services with shard files (or a format 2 shard). */
export function shardServices(snapshotsDir: string): string[] {
  if (!existsSync(snapshotsDir)) return [];
  return readdirSync(snapshotsDir, { withFileTypes: true })
    .map((item) => (item.isDirectory() ? item.name : item.name.endsWith('.json') ? item.name.slice(0, -5) : undefined))
    .filter((name): name is string => Boolean(name));
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
