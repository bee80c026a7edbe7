/**
 * Drift: the live database against the schema the stream produced (each service's shard), per
 * service — missing or extra tables, columns, indexes and constraints — with the SQL that brings
 * the database back to the stream. Tables no service owns are listed as unowned, not as drift
 * (the history table is Tributary's own). A service with pending migrations is not compared:
 * pending migrations are not drift, and the shard already holds their effect. A comparison that
 * found no drift is remembered by a digest of the catalog and the shards (db/catalog-fingerprint.ts):
 * the next one over the same database schema and shards is answered without introspecting it.
 */
import { createHash } from 'node:crypto';
import { DatabaseSchema, SchemaComparator, type AbstractSqlPlatform, type SchemaDifference, type TableDifference } from '@mikro-orm/sql';
import type { TributaryConfig } from '../config/config.ts';
import { catalogFingerprint, catalogVersion } from '../db/catalog-fingerprint.ts';
import type { Database } from '../db/connection.ts';
import { History } from '../db/history.ts';
import { splitStatements } from '../diff/differ.ts';
import { hasRemembered, isKnownClean, rememberClean, toolVersions } from '../diff/check-cache.ts';
import { freshShards, listTables } from '../diff/rebuild.ts';
import { schemaFromShard, tableKey, withTables, type Shard } from '../diff/snapshot.ts';
import { compareStreamWithHistory, type StreamStatus } from '../executor/status.ts';
import { introspect } from '../db/introspect.ts';
import { readStreamCached } from '../stream/stream-cache.ts';

export type DriftObject = 'schema' | 'type' | 'table' | 'column' | 'index' | 'constraint' | 'trigger';

export interface DriftFinding {
  /** `missing`: the stream has it, the database does not; `extra`: the other way round; `changed`: both, different. */
  kind: 'missing' | 'extra' | 'changed';
  object: DriftObject;
  /** `schema.table` (null for schemas and types). */
  table: string | null;
  name: string;
  /** One line for people, e.g. `default: false in the database, true in the stream`. */
  detail: string;
  /** The SQL that undoes this difference alone (empty unless asked for). */
  sql: string[];
}

export interface ServiceDrift {
  service: string;
  /** `pending`: not compared, the database is not at this service's head yet. */
  status: 'clean' | 'drift' | 'pending';
  note?: string;
  findings: DriftFinding[];
  /** All of it at once, in the order to run it (empty unless asked for). */
  sql: string[];
}

export interface DriftReport {
  ok: boolean;
  database: string;
  services: ServiceDrift[];
  /** Tables of the database that no service's migrations created (`schema.table`). */
  unowned: string[];
}

export interface DriftOptions {
  services?: string[];
  /** Generate the SQL that brings the database back (the `drift` command; `check` only needs the findings). */
  withSql?: boolean;
  /** The stream against the history, when the caller has it already (`check`). */
  status?: StreamStatus;
}

export async function detectDrift(db: Database, config: TributaryConfig, options: DriftOptions = {}): Promise<DriftReport> {
  const stream = readStreamCached(config.migrationsDir);
  // The history first: it never describes a later moment than the schema it is compared with.
  const status = options.status ?? compareStreamWithHistory(stream, await new History(db, config).rows());
  // With no clean comparison remembered, the schema is read anyway: its reading starts now, and
  // the server answers while the shards are parsed here.
  let reading = hasRemembered(config, CACHE) ? undefined : readSchema(db);
  try {
    const shards = await freshShards(config, stream, options.services ?? [], false);
    const historyTable = `${config.historySchema}.${config.historyTable}`;
    const ownedBy = new Map<string, string>();
    for (const shard of shards.values()) for (const table of shard.schema.tables) ownedBy.set(tableKey(table), shard.service);

    const selected = [...shards.keys()].sort().filter((service) => !options.services?.length || options.services.includes(service));
    const pendingOf = (service: string) => status.pending.filter((e) => e.service === service).length;
    const compared = selected.filter((service) => pendingOf(service) === 0).map((service) => shards.get(service)!);
    const results = new Map<string, ServiceDrift>();
    let tables: string[];
    // A clean comparison remembered: the catalog's digest alone may answer.
    const known = !reading && compared.length > 0 ? await catalogFingerprint(db.session) : undefined;
    if (known !== undefined && isKnownClean(config, digest(known, compared.map(recordedShard), config), CACHE)) {
      tables = [...(await listTables(db.session.query, historyTable))];
      for (const shard of compared) results.set(shard.service, { service: shard.service, status: 'clean', findings: [], sql: [] });
    } else {
      // A result that may be remembered needs its key taken with the reading (the digest above came before it).
      reading ??= compared.length > 0 ? readSchema(db) : { introspected: introspect(db) };
      const recorded = compared.map(recordedShard); // while the server answers
      const live = serialisedLive(await reading.introspected, (table) => ownedBy.has(table));
      tables = [...live.allTables];
      for (const shard of recorded) results.set(shard.shard.service, compareService(db, live, shard, options.withSql ?? false));
      if (reading.keyed && compared.length > 0 && [...results.values()].every((result) => result.status === 'clean')) {
        await rememberIfUnchanged(db, config, reading.keyed, recorded);
      }
    }

    const services = selected.map((service): ServiceDrift => {
      const pending = pendingOf(service);
      if (pending === 0) return results.get(service)!;
      const note = `${pending} pending migration${pending === 1 ? '' : 's'}: not compared until applied (pending migrations are not drift).`;
      return { service, status: 'pending', note, findings: [], sql: [] };
    });
    const unowned = tables.filter((table) => table !== historyTable && !ownedBy.has(table)).sort();
    return { ok: services.every((s) => s.status !== 'drift'), database: db.label, services, unowned };
  } finally {
    // No query left running on a connection the caller closes next (drift found, a shard that
    // would not load, nothing to compare).
    if (reading) await Promise.allSettled([reading.introspected, reading.keyed?.version, reading.keyed?.catalog]);
  }
}

const CACHE = 'clean-drift';

interface SchemaReading {
  /** The schema, read once the catalog's version is in (when keyed). */
  introspected: Promise<DatabaseSchema>;
  /** What a clean result is remembered by: the catalog's version before any of the reading, then its digest. */
  keyed?: { version: Promise<string>; catalog: Promise<string> };
}

/**
 * The reading of the schema, in this order: the catalog's version and its digest (on the session,
 * one after the other), then the introspection (on the pool) once the version is in.
 */
function readSchema(db: Database): SchemaReading {
  const version = catalogVersion(db.session);
  const catalog = catalogFingerprint(db.session);
  const introspected = version.then(() => introspect(db));
  for (const promise of [version, catalog, introspected]) promise.catch(() => {}); // awaited where the answer needs them, settled in any case
  return { introspected, keyed: { version, catalog } };
}

/**
 * Remembers a clean comparison if no catalog row changed while the schema was read (the version
 * after it is the one before it): then the digest describes what was compared. Only a shortcut
 * for the next run: a failure here leaves the answer as it is.
 */
async function rememberIfUnchanged(db: Database, config: TributaryConfig, keyed: NonNullable<SchemaReading['keyed']>, recorded: RecordedShard[]): Promise<void> {
  try {
    const catalog = await keyed.catalog;
    const [before, after] = await Promise.all([keyed.version, catalogVersion(db.session)]);
    if (before === after) rememberClean(config, digest(catalog, recorded, config), CACHE);
  } catch {
    // not remembered
  }
}

/** A shard with each of its tables as MikroORM serialises it (what the database's tables are compared with). */
interface RecordedShard {
  shard: Shard;
  tables: string[];
}

function recordedShard(shard: Shard): RecordedShard {
  return { shard, tables: shard.schema.tables.map((table) => JSON.stringify(table)) };
}

/** What a drift comparison's answer depends on: the database's catalog, the compared shards, the tool and MikroORM. */
function digest(catalog: string, recorded: RecordedShard[], config: TributaryConfig): string {
  const hash = createHash('sha256').update(catalog).update('\0').update(toolVersions(config.root));
  for (const { shard, tables } of recorded) {
    hash.update(`\0${shard.service}\0${JSON.stringify(shard.schema.nativeEnums)}\0${JSON.stringify(shard.schema.namespaces)}`);
    for (const table of tables) hash.update('\0').update(table);
  }
  return hash.digest('hex');
}

/** The database's tables that shards name, each as MikroORM serialises it (in its order), its enum types and schemas, and all its tables. */
interface LiveSchema {
  tables: Map<string, string>;
  nativeEnums: Record<string, any>;
  namespaces: string[];
  allTables: string[];
}

function serialisedLive(live: DatabaseSchema, owned: (key: string) => boolean): LiveSchema {
  const json = live.toJSON();
  const tables = new Map<string, string>();
  for (const table of json.tables) if (owned(tableKey(table))) tables.set(tableKey(table), JSON.stringify(table));
  return { tables, nativeEnums: JSON.parse(JSON.stringify(json.nativeEnums)), namespaces: [...live.getNamespaces(), 'public'], allTables: live.getTables().map(tableKey) };
}

/** The service's tables as the database has them (`from`, out of `live`) against its shard (`to`). */
function compareService(db: Database, live: LiveSchema, recorded: RecordedShard, withSql: boolean): ServiceDrift {
  const { shard } = recorded;
  const keys = shard.schema.tables.map(tableKey);
  const wanted = new Set(shard.schema.namespaces);
  const liveNamespaces = live.namespaces.filter((namespace) => wanted.has(namespace));
  // The cheap answer first: every table of the shard serialising exactly as the database's, the
  // same enum types, every schema there: what the comparator would be given twice.
  const same =
    sameNamespaces(liveNamespaces, shard.schema.namespaces) &&
    new Set(keys).size === keys.length &&
    keys.every((key, i) => live.tables.get(key) === recorded.tables[i]) &&
    JSON.stringify(withTables(shard.schema.tables, live.nativeEnums).nativeEnums) === JSON.stringify(shard.schema.nativeEnums);
  if (same) return { service: shard.service, status: 'clean', findings: [], sql: [] };
  const platform = db.orm.em.getPlatform() as AbstractSqlPlatform;
  const owned = new Set(keys);
  const liveTables = [...live.tables].filter(([key]) => owned.has(key)).map(([, table]) => JSON.parse(table));
  const from = schemaFromShard(withTables(liveTables, live.nativeEnums), platform);
  from.setNamespaces(new Set(liveNamespaces));
  const to = schemaFromShard(shard.schema, platform);
  const diff = new SchemaComparator(platform).compare(from, to);
  const toSql = (part: SchemaDifference) => (withSql ? splitStatements((db.orm.schema as any).diffToSQL(part, { wrap: false, safe: false, dropTables: true })) : []);
  const findings = findingsOf(diff).map(({ part, ...finding }) => ({ ...finding, sql: toSql(part) }));
  return { service: shard.service, status: findings.length > 0 ? 'drift' : 'clean', findings, sql: findings.length > 0 ? toSql(diff) : [] };
}

function sameNamespaces(live: string[], recorded: string[]): boolean {
  const a = new Set(live);
  return a.size === new Set(recorded).size && recorded.every((namespace) => a.has(namespace));
}

type Found = Omit<DriftFinding, 'sql'> & { part: SchemaDifference };

type Change = 'added' | 'changed' | 'removed' | 'renamed';
type What = 'Column' | 'Index' | 'Check' | 'Trigger' | 'Policy' | 'ForeignKey';

/** The parts of MikroORM's table difference: what changed, how. */
const TABLE_PARTS = [
  ['addedColumns', 'added', 'Column'], ['changedColumns', 'changed', 'Column'], ['removedColumns', 'removed', 'Column'], ['renamedColumns', 'renamed', 'Column'],
  ['addedIndexes', 'added', 'Index'], ['changedIndexes', 'changed', 'Index'], ['removedIndexes', 'removed', 'Index'], ['renamedIndexes', 'renamed', 'Index'],
  ['addedChecks', 'added', 'Check'], ['changedChecks', 'changed', 'Check'], ['removedChecks', 'removed', 'Check'],
  ['addedTriggers', 'added', 'Trigger'], ['changedTriggers', 'changed', 'Trigger'], ['removedTriggers', 'removed', 'Trigger'],
  ['addedPolicies', 'added', 'Policy'], ['removedPolicies', 'removed', 'Policy'],
  ['addedForeignKeys', 'added', 'ForeignKey'], ['changedForeignKeys', 'changed', 'ForeignKey'], ['removedForeignKeys', 'removed', 'ForeignKey'],
] as const satisfies ReadonlyArray<readonly [keyof TableDifference, Change, What]>;

type TablePart = (typeof TABLE_PARTS)[number][0];

/** `diff` reduced to `changes` (everything else empty), so its SQL is that of one difference. */
function only(diff: SchemaDifference, changes: Partial<SchemaDifference>): SchemaDifference {
  return {
    ...diff,
    newNamespaces: new Set(), newNativeEnums: [], newTables: {}, changedTables: {}, removedTables: {}, newViews: {}, changedViews: {}, removedViews: {},
    newRoutines: {}, changedRoutines: {}, removedRoutines: {}, removedNamespaces: new Set(), removedNativeEnums: [], orphanedForeignKeys: [],
    ...changes,
  };
}

function onlyInTable(diff: SchemaDifference, table: TableDifference, part: TablePart, key: string): SchemaDifference {
  const empty = Object.fromEntries(TABLE_PARTS.map(([name]) => [name, {}]));
  // MikroORM tests these for presence, not value: left out, not set to undefined.
  const { changedComment: _c, changedPartitioning: _p, changedRlsEnabled: _e, changedRlsForced: _f, ...rest } = table;
  const narrowed = { ...rest, ...empty, [part]: { [key]: (table[part] as Record<string, unknown>)[key] } };
  return only(diff, { changedTables: { [table.name]: narrowed as TableDifference } });
}

const KIND: Record<Change, DriftFinding['kind']> = { added: 'missing', removed: 'extra', changed: 'changed', renamed: 'changed' };

/** Every difference, as a finding with the part of the diff that undoes it. */
function findingsOf(diff: SchemaDifference): Found[] {
  const found: Found[] = [];
  for (const namespace of diff.newNamespaces) found.push({ kind: 'missing', object: 'schema', table: null, name: namespace, detail: `schema ${namespace} is missing`, part: only(diff, { newNamespaces: new Set([namespace]) }) });
  for (const type of diff.newNativeEnums) found.push({ kind: 'missing', object: 'type', table: null, name: type.name, detail: `enum type ${type.name} is missing`, part: only(diff, { newNativeEnums: [type] }) });
  for (const type of diff.removedNativeEnums) found.push({ kind: 'extra', object: 'type', table: null, name: type.name, detail: `enum type ${type.name} is not in the stream`, part: only(diff, { removedNativeEnums: [type] }) });
  for (const [name, table] of Object.entries(diff.newTables)) found.push({ kind: 'missing', object: 'table', table: tableKey(table), name: table.name, detail: `table ${tableKey(table)} is missing`, part: only(diff, { newTables: { [name]: table } }) });
  for (const [name, table] of Object.entries(diff.removedTables)) found.push({ kind: 'extra', object: 'table', table: tableKey(table), name: table.name, detail: `table ${tableKey(table)} is not in the stream`, part: only(diff, { removedTables: { [name]: table } }) });
  for (const table of Object.values(diff.changedTables)) {
    const key = tableKey(table.toTable);
    for (const [part, change, what] of TABLE_PARTS) {
      for (const [name, value] of Object.entries<any>(table[part] ?? {})) {
        if (part === 'changedColumns' && onlyDerived(value)) continue;
        const object = objectOf(what, value);
        const label = labelOf(object, what, value, name);
        const kind = KIND[change];
        const detail =
          kind === 'missing' ? `${label} on ${key} is missing`
          : kind === 'extra' ? `${label} on ${key} is not in the stream`
          : change === 'renamed' ? `${label} on ${key} is named ${name} in the database`
          : `${label} on ${key} differs: ${differences(value)}`;
        found.push({ kind, object, table: key, name: value?.column?.name ?? value?.name ?? value?.keyName ?? value?.constraintName ?? name, detail, part: onlyInTable(diff, table, part, name) });
      }
    }
  }
  return found;
}

/**
 * MikroORM reads a column's enum items from its check constraint: a dropped or changed check
 * shows up on the column too, and is reported once, as the constraint.
 */
function onlyDerived(change: { changedProperties?: Set<string> }): boolean {
  return [...(change.changedProperties ?? [])].every((property) => property === 'enumItems');
}

function objectOf(what: What, value: any): DriftObject {
  if (what === 'Column') return 'column';
  if (what === 'Trigger') return 'trigger';
  if (what === 'Index') return value?.constraint || value?.primary ? 'constraint' : 'index';
  return 'constraint';
}

function labelOf(object: DriftObject, what: What, value: any, name: string): string {
  if (what === 'Column') return `column ${value?.column?.name ?? value?.name ?? name}${value?.type ? ` (${value.type}${value.nullable ? ' null' : ''})` : ''}`;
  if (what === 'Index') return `${value?.primary ? 'primary key' : value?.unique && object === 'constraint' ? 'unique constraint' : value?.unique ? 'unique index' : 'index'} ${value?.keyName ?? name}`;
  if (what === 'ForeignKey') return `foreign key ${value?.constraintName ?? name}`;
  if (what === 'Check') return `check constraint ${value?.name ?? name}`;
  return `${what.toLowerCase()} ${value?.name ?? name}`;
}

/** A changed column's properties, each as `property: database value → stream value`. */
function differences(value: any): string {
  if (!value?.changedProperties) return 'its definition';
  const show = (v: unknown) => (v === null || v === undefined ? 'none' : String(v));
  return [...value.changedProperties].filter((property: string) => property !== 'enumItems').map((property: string) => `${property} ${show(value.fromColumn?.[property])} in the database, ${show(value.column?.[property])} in the stream`).join('; ');
}
