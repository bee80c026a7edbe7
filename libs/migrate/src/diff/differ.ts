/**
 * Compares one service's models with its shard and produces the SQL that moves the database
 * from the shard's schema to the models' (and back), for that service's tables, enum types and
 * schemas only. Tables are keyed `schema.table` throughout; a table taken over from another
 * service (an ownership transfer) is compared with the old owner's recorded definition, so a
 * move yields no DDL.
 */
import { DatabaseSchema, SchemaComparator, type AbstractSqlPlatform, type SchemaDifference } from '@mikro-orm/sql';
import type { ModelSet } from '../models/model-set.ts';
import { schemaFromShard, tableKey, withTables, type Shard } from './snapshot.ts';

export interface ServiceDiff {
  service: string;
  up: string[];
  down: string[];
  /** The models' schema for the service, to store as its new shard. */
  target: DatabaseSchema;
  /** Tables (`schema.table`) of other services that foreign keys this migration adds point to. */
  foreignTables: Set<string>;
  createdTables: string[];
  droppedTables: string[];
  /** Columns this migration drops, as `schema.table.column`. */
  droppedColumns: string[];
  /** Why PostgreSQL cannot undo part of `up` (empty when `down` reverts it all). */
  irreversible: string[];
}

/** Tables changing owner in this run: what this service takes over, from whom, and what it gives away. */
export interface Transfers {
  /** `schema.table` → the old owner's serialised table and the native enums of its shard. */
  incoming: Map<string, { from: string; table: any; nativeEnums: Record<string, any> }>;
  /** Tables of this service's shard now mapped by another service. */
  outgoing: Set<string>;
}

const NO_TRANSFERS: Transfers = { incoming: new Map(), outgoing: new Set() };

export function targetSchema(models: ModelSet, service: string): DatabaseSchema {
  const { orm } = models;
  return DatabaseSchema.fromMetadata(models.metadataOf(service), orm.em.getPlatform() as AbstractSqlPlatform, orm.config as any, 'public', orm.em);
}

/**
 * Whether the shard makemigrations would write for `service` from `target` is `recorded`: its
 * tables in key order, each serialised as MikroORM does (compared table by table, stopping at the
 * first that differs), and the enum types and schemas they use.
 */
function matchesShard(models: ModelSet, service: string, target: DatabaseSchema, recorded: Shard['schema']): boolean {
  const owned = target.getTables().filter((table) => models.owners.get(tableKey(table)) === service);
  if (owned.length !== recorded.tables.length) return false;
  owned.sort((a, b) => (tableKey(a) < tableKey(b) ? -1 : 1));
  if (!owned.every((table, i) => JSON.stringify(table) === JSON.stringify(recorded.tables[i]))) return false;
  // The tables are the shard's: so are the enum types and schemas they use, if the types are the
  // same. (The whole shard serialised alike, compared part by part: its tables were just compared.)
  const expected = withTables(recorded.tables, JSON.parse(JSON.stringify(target.getNativeEnums())));
  return (
    Object.keys(recorded).join() === Object.keys(expected).join() &&
    JSON.stringify(expected.nativeEnums) === JSON.stringify(recorded.nativeEnums) &&
    JSON.stringify(expected.namespaces) === JSON.stringify(recorded.namespaces)
  );
}

/** `upOnly`: skip the down SQL (read-only checks only ask whether there is an up). */
export function diffService(models: ModelSet, service: string, shard: Shard | undefined, upOnly = false, transfers: Transfers = NO_TRANSFERS): ServiceDiff {
  const platform = models.orm.em.getPlatform() as AbstractSqlPlatform;
  const recorded = shard?.schema ?? { tables: [], nativeEnums: {}, namespaces: ['public'] };
  const to = targetSchema(models, service);
  // The cheap answer first: models serialising to exactly the shard that makemigrations wrote from
  // them have nothing to migrate, so MikroORM's comparator (the costly part) has nothing to find.
  if (upOnly && transfers.incoming.size === 0 && transfers.outgoing.size === 0 && matchesShard(models, service, to, recorded)) return unchanged(service, to);
  // What this service had, minus what it gives away, plus what it takes over (with the enum types those tables use).
  const incoming = [...transfers.incoming.values()];
  const tables = [...recorded.tables.filter((table) => !transfers.outgoing.has(tableKey(table))), ...incoming.map((t) => t.table)];
  const from = schemaFromShard(withTables(tables, Object.assign({}, ...incoming.map((t) => t.nativeEnums), recorded.nativeEnums)), platform);
  const comparator = new SchemaComparator(platform);
  const upDiff = comparator.compare(from, to);
  const downDiff = upOnly ? undefined : comparator.compare(to, from, upDiff);
  const sharedNamespaces = namespacesOfOtherServices(models, service);
  const toSql = (diff: SchemaDifference) => differenceSql(models.orm, diff, sharedNamespaces);

  // Only foreign keys this migration adds need the referenced table to exist first.
  const addedForeignKeys = [
    ...Object.values(upDiff.newTables).flatMap((table) => Object.values(table.getForeignKeys())),
    ...Object.values(upDiff.changedTables).flatMap((table) => [...Object.values(table.addedForeignKeys), ...Object.values(table.changedForeignKeys)]),
  ];
  const foreignTables = new Set<string>();
  for (const fk of addedForeignKeys) {
    const referenced = qualifiedReference(fk.referencedTableName);
    if (models.owners.get(referenced) !== service) foreignTables.add(referenced);
  }
  const up = toSql(upDiff);
  return {
    service,
    up,
    down: downDiff ? toSql(downDiff) : [],
    target: to,
    foreignTables,
    createdTables: Object.values(upDiff.newTables).map(tableKey),
    droppedTables: Object.values(upDiff.removedTables).map(tableKey),
    droppedColumns: Object.values(upDiff.changedTables).flatMap((diff) => Object.keys(diff.removedColumns).map((column) => `${tableKey(diff.fromTable)}.${column}`)),
    irreversible: up.filter((sql) => /^alter type .+ add value/i.test(sql)).map((sql) => `${sql} — PostgreSQL cannot remove a value from an enum type.`),
  };
}

/** The SQL of a schema difference, as MikroORM's generator writes it; a schema in `kept` (another service uses it) is never dropped. */
export function differenceSql(orm: { schema: unknown }, diff: SchemaDifference, kept: Set<string>): string[] {
  for (const namespace of kept) diff.removedNamespaces.delete(namespace);
  return [
    ...splitStatements((orm.schema as any).diffToSQL(diff, { wrap: false, safe: false, dropTables: true })).map(withoutSerialCasts),
    ...sequenceChanges(diff),
  ];
}

function unchanged(service: string, target: DatabaseSchema): ServiceDiff {
  return { service, up: [], down: [], target, foreignTables: new Set(), createdTables: [], droppedTables: [], droppedColumns: [], irreversible: [] };
}

/** `user` → `public.user`; `ledger.entry` stays. */
export function qualifiedReference(name: string): string {
  return name.includes('.') ? name : `public.${name}`;
}

function namespacesOfOtherServices(models: ModelSet, service: string): Set<string> {
  const namespaces = new Set<string>();
  for (const [table, owner] of models.owners) if (owner !== service) namespaces.add(table.slice(0, table.indexOf('.')));
  return namespaces;
}

/** `serial` is not a type PostgreSQL can cast to: MikroORM writes `alter column "id" type bigserial using ("id"::bigserial)` when a serial key widens. */
function withoutSerialCasts(sql: string): string {
  const types: Record<string, string> = { smallserial: 'smallint', serial: 'integer', bigserial: 'bigint' };
  return sql.replace(/\btype (smallserial|serial|bigserial) using \(("[^"]+")::(smallserial|serial|bigserial)\)/gi, (_, type: string, column: string) => {
    const plain = types[type.toLowerCase()]!;
    return `type ${plain} using (${column}::${plain})`;
  });
}

const INTEGER_TYPES: Record<string, string> = { smallint: 'smallint', int2: 'smallint', smallserial: 'smallint', int: 'integer', int4: 'integer', integer: 'integer', serial: 'integer', bigint: 'bigint', int8: 'bigint', bigserial: 'bigint' };

/**
 * A serial key whose column changes between integer types keeps its sequence's old type (MikroORM's
 * comparator does not look at sequences), which caps the key below the column's range: the
 * sequence follows the column, as a fresh `bigserial` would have it.
 */
function sequenceChanges(diff: SchemaDifference): string[] {
  const statements: string[] = [];
  for (const table of Object.values(diff.changedTables)) {
    for (const change of Object.values(table.changedColumns)) {
      const from = INTEGER_TYPES[change.fromColumn.type?.toLowerCase()];
      const to = INTEGER_TYPES[change.column.type?.toLowerCase()];
      if (!from || !to || from === to || !change.column.autoincrement || !change.fromColumn.autoincrement) continue;
      // The sequence's own name is PostgreSQL's choice (shortened for long names, kept across renames): ask it.
      const owner = `"${table.toTable.schema ?? 'public'}"."${table.toTable.name}"`.replaceAll("'", "''");
      statements.push(`do $$ begin execute format('alter sequence %s as ${to}', pg_get_serial_sequence('${owner}', '${change.column.name.replaceAll("'", "''")}')); end $$;`);
    }
  }
  return statements;
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
