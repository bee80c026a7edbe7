/**
 * `squash`: writes one migration that replaces a service's history up to a migration (Django's
 * `squashmigrations`, per service). Its `up()` creates that service's schema as the replaced
 * migrations leave it — the shard as of the last one, replayed from the stream — its `down()`
 * drops it, and `static replaces` lists what it stands for. Data migrations are refused unless
 * left out on purpose; ownership transfers cannot be squashed.
 */
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DatabaseSchema, SchemaComparator, type AbstractSqlPlatform } from '@mikro-orm/sql';
import type { TributaryConfig } from '../config/config.ts';
import { discoverServices, selectServices } from '../config/services.ts';
import { statementKinds } from '../checks/lint.ts';
import { describeError, TributaryError } from '../errors.ts';
import { collectSql, sqlReader } from '../executor/sql-reader.ts';
import { loadMigration, type MigrationDefinition } from '../stream/migration-file.ts';
import { formatTimestamp, migrationName, parseTimestamp, slugify, TimestampAllocator } from '../stream/naming.ts';
import { replacedBy, resolveDependencies } from '../stream/replaces.ts';
import { findEntry, readStream, type StreamEntry } from '../stream/stream.ts';
import { differenceSql } from './differ.ts';
import { freshShards, reflected, replayStream, takenOver } from './rebuild.ts';
import { schemaFromShard, serializeTables, tableKey, writeShard } from './snapshot.ts';
import { renderMigration } from './writer.ts';

export interface SquashOptions {
  service: string;
  /** The last migration to replace (default: the service's newest). */
  to?: string;
  message?: string;
  /** Replace data migrations too: their effect is not part of the squash (a fresh database will not run them). */
  dropDataMigrations?: boolean;
  now?: Date;
}

export interface SquashResult {
  name: string;
  file: string;
  replaces: string[];
  dependsOn: string[];
  statements: number;
  /** Data migrations left out (with --drop-data-migrations). */
  droppedDataMigrations: string[];
}

export async function squash(config: TributaryConfig, options: SquashOptions): Promise<SquashResult> {
  const service = options.service;
  selectServices(discoverServices(config), [service]);
  const stream = readStream(config.migrationsDir);
  const mine = stream.filter((e) => e.service === service);
  const last = options.to ? findEntry(stream, options.to, 'squash --to') : mine.at(-1);
  if (!last) throw new TributaryError(`Service ${service} has no migration to squash.`);
  if (last.service !== service) throw new TributaryError(`squash --to ${last.name}: that is a migration of ${last.service}, not of ${service}.`);
  const range = mine.filter((e) => e.name <= last.name);
  if (range.length < 2) throw new TributaryError(`Service ${service} has only one migration up to ${last.name}: nothing to squash.`);

  const definitions: MigrationDefinition[] = [];
  for (const entry of range) definitions.push(await loadMigration(entry, config.root));
  const data = await dataMigrations(definitions, config.root);
  if (data.length > 0 && !options.dropDataMigrations) {
    const [first] = data;
    throw new TributaryError(
      `Migration ${first!.name} (${service}) is a data migration (${first!.why}), which a squash cannot hold: squash up to the migration before it with --to, or pass --drop-data-migrations to leave ${data.length === 1 ? 'it' : `the ${data.length} data migrations`} out (a fresh database then does not run ${data.length === 1 ? 'it' : 'them'}).`,
    );
  }
  for (const definition of definitions) {
    const moved = takenOver(definition);
    if (moved.length > 0) throw new TributaryError(`Migration ${definition.entry.name} takes over ${moved.join(', ')} from another service (an ownership transfer), which a squash cannot replace: squash up to the migration before it with --to.`);
  }

  const { up, down } = await schemaAsOf(config, stream, service, range);
  // What the squash stands for: the range, and what squashes inside it replaced (their files may be gone).
  const replaces = [...new Set([...range.flatMap((e) => e.replaces ?? []), ...range.map((e) => e.name)])].sort();
  const inRange = new Set(replaces);
  const squashes = replacedBy(stream);
  const dependsOn = [...new Set(definitions.flatMap((d) => resolveDependencies(d.dependsOn, squashes)))].filter((name) => !inRange.has(name)).sort();

  const name = squashName(stream, mine, last, slugify(options.message, 'squashed'), options.now);
  const code = renderMigration({ name, service, dependsOn, up, down, replaces });
  const file = join(config.migrationsDir, `${name}.ts`);
  const shard = (await freshShards(config, stream, [service])).get(service)!;
  writeFileSync(file, code, { flag: 'wx' });
  // The squash changes nothing the service has: its shard now also lists the squash.
  const after = readStream(config.migrationsDir);
  writeShard(config.snapshotsDir, { ...shard, ...reflected(after, service) });
  return { name, file, replaces, dependsOn, statements: up.length, droppedDataMigrations: data.map((d) => d.name) };
}

/**
 * The squash sorts right after the last migration it replaces, before the service's next one, so
 * that a fresh database runs it where the replaced ones were and nothing of the service is out of
 * order; after the service's newest migration it is simply the next name.
 */
export function squashName(stream: StreamEntry[], mine: StreamEntry[], last: StreamEntry, slug: string, now?: Date): string {
  const next = mine.find((e) => e.name > last.name);
  if (!next) return migrationName(new TimestampAllocator(stream.at(-1)?.name.slice(0, 15), now).take(), last.service, slug);
  const name = migrationName(formatTimestamp(new Date(parseTimestamp(last.name.slice(0, 15)).getTime() + 1000)), last.service, slug);
  if (name >= next.name) {
    throw new TributaryError(`No room for a squash between ${last.name} and ${next.name} (one second apart): squash up to ${next.name}, or to an earlier migration.`);
  }
  return name;
}

/**
 * The service's schema after `range` as SQL: the stream up to its last migration is replayed into
 * an in-memory database, and the tables those migrations created (and still hold) are written
 * from nothing by MikroORM's generator — the same shard `makemigrations` diffs against.
 */
async function schemaAsOf(config: TributaryConfig, stream: StreamEntry[], service: string, range: StreamEntry[]): Promise<{ up: string[]; down: string[] }> {
  const last = range.at(-1)!;
  const names = new Set(range.map((e) => e.name));
  const shard = await replayStream(config, stream.filter((e) => e.name <= last.name), (schema, ownerOf, historyTable, createdBy) => {
    for (const [table, creator] of createdBy) {
      const owner = ownerOf.get(table);
      if (names.has(creator) && owner !== service) throw new TributaryError(`Table ${table}, created by ${creator}, was taken over by ${owner} before ${last.name}: a squash of ${service} cannot replace it; squash up to an earlier migration.`);
    }
    const others = new Set([...ownerOf].filter(([, owner]) => owner !== service).map(([table]) => table.slice(0, table.indexOf('.'))));
    const serialized = serializeTables(schema, (table) => table !== historyTable && names.has(createdBy.get(table) ?? ''));
    // The shard lists columns by name; the squash creates them in the order the replaced migrations left them.
    for (const table of serialized.tables) {
      const order = schema.getTable(tableKey(table))?.getColumns().map((column) => column.name) ?? [];
      table.columns = Object.fromEntries(Object.entries<any>(table.columns).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)));
    }
    return { schema: serialized, others };
  });
  const reader = sqlReader();
  const platform = reader.orm.em.getPlatform() as unknown as AbstractSqlPlatform;
  const target = schemaFromShard(shard.schema, platform);
  const empty = new DatabaseSchema(platform, 'public');
  empty.setNamespaces(new Set(['public']));
  const comparator = new SchemaComparator(platform);
  const kept = new Set(['public', ...shard.others]);
  const up = differenceSql(reader.orm, comparator.compare(empty, target), kept);
  const down = differenceSql(reader.orm, comparator.compare(target, empty), kept);
  return { up, down };
}

const DATA_STATEMENTS = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'SelectStmt', 'CopyStmt', 'TruncateStmt', 'CallStmt', 'ExecuteStmt', 'DoStmt']);

/** The migrations of `definitions` that do more than DDL: blank ones (`--empty`), ones that query the database themselves, or SQL that reads or writes rows. */
async function dataMigrations(definitions: MigrationDefinition[], root: string): Promise<Array<{ name: string; why: string }>> {
  const found: Array<{ name: string; why: string }> = [];
  for (const definition of definitions) {
    const name = definition.entry.name;
    let sql;
    try {
      sql = await collectSql(sqlReader(), definition, 'up');
    } catch (error) {
      found.push({ name, why: `its up() needs the database: ${describeError(error)}` });
      continue;
    }
    if (sql.directQueries.length > 0) {
      found.push({ name, why: `it queries the database itself: ${sql.directQueries[0]}` });
      continue;
    }
    if (sql.statements.length === 0) {
      if (takenOver(definition).length === 0) found.push({ name, why: 'its up() collects no SQL, as a blank --empty migration' });
      continue;
    }
    for (const statement of sql.statements) {
      const kinds = await statementKinds(statement).catch(() => [] as string[]);
      // The sequence change makemigrations writes for a widened serial key is DDL inside a DO block.
      const data = kinds.find((kind) => DATA_STATEMENTS.has(kind) && !(kind === 'DoStmt' && /alter sequence/i.test(statement)));
      if (data) {
        found.push({ name, why: `${relative(root, definition.entry.file)} runs ${statement.split(/\s+/).slice(0, 3).join(' ')} …` });
        break;
      }
    }
  }
  return found;
}
