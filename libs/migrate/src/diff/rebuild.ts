/**
 * Keeps shards true to the stream. A shard that is missing, unreadable (say, a merge conflict),
 * of an older format, or listing other migrations than the stream holds for its service is
 * rebuilt by replaying the whole stream into an in-memory PGlite database and introspecting it.
 * The stream alone says who owns what: a table belongs to the service whose migration created
 * it, until a later migration of another service takes it over (`static takesOwnership`).
 */
import { DatabaseSchema, type AbstractSqlPlatform } from '@mikro-orm/sql';
import type { TributaryConfig } from '../config/config.ts';
import { openDatabase } from '../db/connection.ts';
import { History } from '../db/history.ts';
import { replayCollectedSql } from '../executor/runner.ts';
import { MigrationGraph } from '../stream/graph.ts';
import { loadMigration, type MigrationDefinition } from '../stream/migration-file.ts';
import type { StreamEntry } from '../stream/stream.ts';
import { readShard, serializeTables, SHARD_FORMAT, shardServices, writeShard, type Shard } from './snapshot.ts';

/** `persist`: write rebuilt shards back (not for read-only runs such as `--check`). */
export async function freshShards(config: TributaryConfig, stream: StreamEntry[], wanted: string[], persist = true): Promise<Map<string, Shard>> {
  const namesOf = new Map<string, string[]>();
  for (const entry of stream) namesOf.set(entry.service, [...(namesOf.get(entry.service) ?? []), entry.name]);
  const services = new Set([...wanted, ...shardServices(config.snapshotsDir), ...namesOf.keys()]);

  const shards = new Map<string, Shard>();
  const stale: string[] = [];
  for (const service of services) {
    const expected = namesOf.get(service) ?? [];
    const state = readShard(config.snapshotsDir, service);
    if (state.status === 'ok' && sameList(state.shard.migrations, expected)) shards.set(service, state.shard);
    else if (state.status === 'missing' && expected.length === 0) shards.set(service, emptyShard(service));
    else stale.push(service);
  }
  if (stale.length > 0) {
    const rebuilt = await rebuildShards(config, stream);
    for (const service of stale) {
      const shard = rebuilt.get(service) ?? emptyShard(service);
      if (persist) writeShard(config.snapshotsDir, shard);
      shards.set(service, shard);
    }
  }
  return shards;
}

export function emptyShard(service: string): Shard {
  return { format: SHARD_FORMAT, service, migrations: [], schema: { tables: [], nativeEnums: {}, namespaces: ['public'] } };
}

/** Replays the stream into a scratch database; returns a shard per service. */
export async function rebuildShards(config: TributaryConfig, stream: StreamEntry[]): Promise<Map<string, Shard>> {
  const db = await openDatabase(config, { memory: true });
  try {
    const history = new History(db, config);
    await history.ensureTable();
    const historyTable = `${config.historySchema}.${config.historyTable}`;
    const definitions = await Promise.all(stream.map((entry) => loadMigration(entry, config.root)));
    const graph = new MigrationGraph(definitions, new Set(stream.map((e) => e.name)), config.root);
    const ownerOf = new Map<string, string>(); // `schema.table` → service
    let tables = await listTables(db.session.query, historyTable);
    for (const name of graph.order(stream.map((e) => e.name))) {
      const definition = graph.get(name)!;
      await replayCollectedSql(db, history, definition, config.root); // addSql only: never a user query
      const after = await listTables(db.session.query, historyTable);
      for (const table of after) if (!tables.has(table)) ownerOf.set(table, definition.entry.service);
      for (const table of takenOver(definition)) ownerOf.set(table, definition.entry.service);
      tables = after;
    }

    const schema = await DatabaseSchema.create(db.connection, db.orm.em.getPlatform() as AbstractSqlPlatform, db.orm.config as any);
    const shards = new Map<string, Shard>();
    for (const entry of stream) {
      if (shards.has(entry.service)) continue;
      const service = entry.service;
      shards.set(service, {
        format: SHARD_FORMAT,
        service,
        migrations: stream.filter((e) => e.service === service).map((e) => e.name),
        schema: serializeTables(schema, (table) => table !== historyTable && ownerOf.get(table) === service),
      });
    }
    return shards;
  } finally {
    await db.close();
  }
}

/** The tables a migration declares it takes over from another service (`static takesOwnership`). */
function takenOver(definition: MigrationDefinition): string[] {
  const tables = (definition.migrationClass as { takesOwnership?: unknown }).takesOwnership;
  return Array.isArray(tables) ? tables.filter((t): t is string => typeof t === 'string').map((t) => (t.includes('.') ? t : `public.${t}`)) : [];
}

/** Every table of the user schemas, as `schema.table`, the history table left out. */
async function listTables(query: (sql: string) => Promise<any[]>, historyTable: string): Promise<Set<string>> {
  const rows = await query(`select schemaname || '.' || tablename as "table" from pg_tables where schemaname not in ('pg_catalog', 'information_schema') and schemaname not like 'pg\\_%'`);
  return new Set(rows.map((r) => r.table as string).filter((t) => t !== historyTable));
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

export function writeRebuiltShards(config: TributaryConfig, shards: Map<string, Shard>): void {
  for (const shard of shards.values()) writeShard(config.snapshotsDir, shard);
}
