/**
 * Keeps shards true to the stream. A service whose shard is missing, unreadable, of an older
 * format, lists other migrations than the stream holds for it or other checksums (a reviewer
 * edited the generated SQL), or that has several shard files (branches that each changed it were
 * merged: each file knows one branch) gets its shard rebuilt by replaying the whole stream into
 * an in-memory PGlite database and introspecting it.
 * The stream alone says who owns what: a table belongs to the service whose migration created
 * it, until a later migration of another service takes it over (`static takesOwnership`).
 */
import type { DatabaseSchema } from '@mikro-orm/sql';
import type { TributaryConfig } from '../config/config.ts';
import { openDatabase } from '../db/connection.ts';
import { History } from '../db/history.ts';
import { introspect } from '../db/introspect.ts';
import { replayCollectedSql } from '../executor/runner.ts';
import { MigrationGraph } from '../stream/graph.ts';
import { loadMigration, type MigrationDefinition } from '../stream/migration-file.ts';
import type { StreamEntry } from '../stream/stream.ts';
import { replacedBy, resolveDependencies, squashUse } from '../stream/replaces.ts';
import { rememberedShards, rememberShards } from './shard-cache.ts';
import { readShards, serializeTables, SHARD_FORMAT, shardServices, writeShard, type Shard } from './snapshot.ts';

/**
 * `persist`: write rebuilt shards back (not for read-only runs such as `--check`, which keep them
 * in node_modules/.cache for the next read-only run of the same stream: shard-cache.ts).
 * `onRebuild` is told first which shards are rebuilt and why: replaying the stream takes a while.
 */
export async function freshShards(config: TributaryConfig, stream: StreamEntry[], wanted: string[], persist = true, onRebuild?: (line: string) => void): Promise<Map<string, Shard>> {
  const entriesOf = new Map<string, StreamEntry[]>();
  for (const entry of stream) entriesOf.set(entry.service, [...(entriesOf.get(entry.service) ?? []), entry]);
  const services = new Set([...wanted, ...shardServices(config.snapshotsDir), ...entriesOf.keys()]);

  const shards = new Map<string, Shard>();
  const stale: string[] = [];
  const reasons: string[] = [];
  for (const service of services) {
    const expected = entriesOf.get(service) ?? [];
    // Several files (a merge of branches that each changed the service) each know one branch only.
    const files = readShards(config.snapshotsDir, service);
    const only = files.length === 1 ? files[0]!.state : undefined;
    if (only?.status === 'ok' && reflects(only.shard, expected)) shards.set(service, only.shard);
    else if (files.length === 0 && expected.length === 0) shards.set(service, emptyShard(service));
    else {
      stale.push(service);
      reasons.push(`${service} (${staleReason(files.length, only?.status === 'ok' ? only.shard : undefined, expected)})`);
    }
  }
  if (stale.length > 0) {
    // A read-only run cannot write the shards back: it keeps them aside, or every run would replay again.
    let rebuilt = rememberedShards(config, stream);
    if (!rebuilt) {
      // A read-only run says how the shard catches up for good: filling in a blank data migration is an edit too.
      const record = persist ? '' : ' (`makemigrations` writes the rebuilt shard)';
      onRebuild?.(`Rebuilding the snapshot shard${stale.length === 1 ? '' : 's'} of ${reasons.join(', ')} by replaying the stream…${record}`);
      rebuilt = await rebuildShards(config, stream);
      if (!persist) rememberShards(config, stream, rebuilt);
    }
    for (const service of stale) {
      const shard = rebuilt.get(service) ?? emptyShard(service);
      if (persist) writeShard(config.snapshotsDir, shard);
      shards.set(service, shard);
    }
  }
  return shards;
}

function staleReason(files: number, shard: Shard | undefined, expected: StreamEntry[]): string {
  if (files === 0) return `no shard yet for its ${expected.length} migration${expected.length === 1 ? '' : 's'}`;
  if (files > 1) return `${files} shard files: branches that each added a migration were merged`;
  if (!shard) return 'its shard file cannot be read';
  const edited = expected.find((entry) => entry.name in shard.checksums && shard.checksums[entry.name] !== entry.checksum);
  if (edited) return `${edited.name} was edited after its shard was written`;
  const added = expected.find((entry) => !shard.migrations.includes(entry.name));
  if (added) return `${added.name} is not in its shard`;
  const gone = shard.migrations.find((name) => !expected.some((entry) => entry.name === name));
  if (gone) return `its shard lists ${gone}, which is no longer in the stream`;
  return 'its shard lists its migrations in another order';
}

/** Whether `shard` reflects exactly these migrations of its service, none of them edited since. */
function reflects(shard: Shard, entries: StreamEntry[]): boolean {
  return shard.migrations.length === entries.length && entries.every((entry, i) => shard.migrations[i] === entry.name && shard.checksums[entry.name] === entry.checksum);
}

export function emptyShard(service: string): Shard {
  return { format: SHARD_FORMAT, service, migrations: [], checksums: {}, schema: { tables: [], nativeEnums: {}, namespaces: ['public'] } };
}

/** The shard fields that say which migrations of `service` (in `stream`) a schema reflects. */
export function reflected(stream: StreamEntry[], service: string): Pick<Shard, 'migrations' | 'checksums'> {
  const mine = stream.filter((e) => e.service === service);
  return { migrations: mine.map((e) => e.name), checksums: Object.fromEntries(mine.map((e) => [e.name, e.checksum])) };
}

/** Replays the stream into a scratch database; returns a shard per service. */
export async function rebuildShards(config: TributaryConfig, stream: StreamEntry[]): Promise<Map<string, Shard>> {
  return replayStream(config, stream, (schema, ownerOf, historyTable) => {
    const shards = new Map<string, Shard>();
    for (const service of new Set(stream.map((e) => e.service))) {
      shards.set(service, {
        format: SHARD_FORMAT,
        service,
        ...reflected(stream, service),
        schema: serializeTables(schema, (table) => table !== historyTable && ownerOf.get(table) === service),
      });
    }
    return shards;
  });
}

/**
 * Replays `stream` as a fresh database would run it (a squash instead of what it replaces) into an
 * in-memory PGlite database, running only the SQL collected by `addSql`, and hands `read` the
 * resulting schema with the owner of each table (`schema.table` → service): the service whose
 * migration created it, or the last that took it over. `createdBy` tells which migration created each.
 */
export async function replayStream<T>(
  config: TributaryConfig,
  stream: StreamEntry[],
  read: (schema: DatabaseSchema, ownerOf: Map<string, string>, historyTable: string, createdBy: Map<string, string>) => T,
): Promise<T> {
  const db = await openDatabase(config, { memory: true });
  try {
    const history = new History(db, config);
    await history.ensureTable();
    const historyTable = `${config.historySchema}.${config.historyTable}`;
    const { represented } = squashUse(stream, new Set());
    const run = stream.filter((e) => !represented.has(e.name));
    const squashes = replacedBy(stream);
    const definitions = await Promise.all(run.map((entry) => loadMigration(entry, config.root)));
    for (const definition of definitions) definition.dependsOn = resolveDependencies(definition.dependsOn, squashes);
    const graph = new MigrationGraph(definitions, new Set(stream.map((e) => e.name)), config.root);
    const ownerOf = new Map<string, string>(); // `schema.table` → service
    const createdBy = new Map<string, string>(); // `schema.table` → migration
    let tables = await listTables(db.session.query, historyTable);
    for (const name of graph.order(run.map((e) => e.name))) {
      const definition = graph.get(name)!;
      await replayCollectedSql(db, history, definition, config.root); // addSql only: never a user query
      const after = await listTables(db.session.query, historyTable);
      for (const table of after) {
        if (tables.has(table)) continue;
        ownerOf.set(table, definition.entry.service);
        createdBy.set(table, name);
      }
      for (const table of takenOver(definition)) ownerOf.set(table, definition.entry.service);
      tables = after;
    }
    const schema = await introspect(db);
    return read(schema, ownerOf, historyTable, createdBy);
  } finally {
    await db.close();
  }
}

/** The tables a migration declares it takes over from another service (`static takesOwnership`). */
export function takenOver(definition: MigrationDefinition): string[] {
  const tables = (definition.migrationClass as { takesOwnership?: unknown }).takesOwnership;
  return Array.isArray(tables) ? tables.filter((t): t is string => typeof t === 'string').map((t) => (t.includes('.') ? t : `public.${t}`)) : [];
}

/** Every table of the user schemas, as `schema.table`, the history table left out. */
export async function listTables(query: (sql: string) => Promise<any[]>, historyTable: string): Promise<Set<string>> {
  const rows = await query(`select schemaname || '.' || tablename as "table" from pg_tables where schemaname not in ('pg_catalog', 'information_schema') and schemaname not like 'pg\\_%'`);
  return new Set(rows.map((r) => r.table as string).filter((t) => t !== historyTable));
}
