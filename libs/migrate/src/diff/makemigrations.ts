/**
 * makemigrations: for each (selected) service whose models differ from its shard, writes one
 * migration file with that service's DDL only, records cross-service `dependsOn`, and updates
 * the shard. Needs no database.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { TributaryConfig } from '../config/config.ts';
import { discoverServices, selectServices } from '../config/services.ts';
import { TributaryError } from '../errors.ts';
import { loadModels, type ModelSet } from '../models/index.ts';
import { migrationName, slugify, TimestampAllocator } from '../stream/naming.ts';
import { checksumOf } from '../stream/stream.ts';
import { readStreamCached } from '../stream/stream-cache.ts';
import { renderedDefinition } from '../stream/migration-file.ts';
import { lintMigrations, type Severity } from '../checks/lint.ts';
import { checkFingerprint, isKnownClean, rememberClean } from './check-cache.ts';
import { diffService, qualifiedReference, type ServiceDiff, type Transfers } from './differ.ts';
import { freshShards } from './rebuild.ts';
import { serializeTables, SHARD_FORMAT, tableKey, withTables, writeShard, type Shard } from './snapshot.ts';
import { renderMigration } from './writer.ts';

export interface MakeMigrationsOptions {
  message?: string;
  services?: string[];
  empty?: boolean;
  /** Write nothing; report which services have model changes without a migration. */
  check?: boolean;
  /** With check: remember a clean answer, and answer from what is remembered (default true). */
  remember?: boolean;
  /** Write nothing; return the files that would be written. */
  dryRun?: boolean;
  /** An ORM the caller has initialised with exactly the workspace's models (an app at boot): its metadata is reused, not discovered again. */
  orm?: MikroORM;
  now?: Date;
  /** Told, before it starts, of slow work such as rebuilding a shard, and why; and when loading the models takes over a second. */
  onNote?: (line: string) => void;
}

export interface PlannedFile {
  name: string;
  service: string;
  file: string;
  code: string;
  dependsOn: string[];
  statements: number;
  /** Tables this migration takes over from another service (an ownership transfer, no DDL). */
  takesOver?: Array<{ table: string; from: string }>;
  /**
   * Statements that may lose data or break running code: lint errors (drop table/column, narrowing),
   * which `migrate` refuses until the file acknowledges them, and the warning `drop-default`.
   */
  destructive?: Array<{ rule: string; severity: Severity; statement: string; message: string; safely: string }>;
}

export interface MakeMigrationsResult {
  /** Services whose models differ from the stream (among those selected). */
  changed: string[];
  /** `--check`: each changed service's statements the migration would hold (what differs, said in SQL). */
  statements?: Record<string, string[]>;
  files: PlannedFile[];
  written: boolean;
}

export async function makeMigrations(config: TributaryConfig, options: MakeMigrationsOptions = {}): Promise<MakeMigrationsResult> {
  const all = discoverServices(config);
  if (all.length === 0) {
    throw new TributaryError(`No services found in ${config.root}: a service is a project folder (project.json or package.json) with src/db/models/.`);
  }
  const selected = selectServices(all, options.services);
  const stream = readStreamCached(config.migrationsDir);
  const allocator = new TimestampAllocator(stream.at(-1)?.name.slice(0, 15), options.now);

  if (options.empty) {
    if (selected.length !== 1 || !options.services?.length) {
      throw new TributaryError('makemigrations --empty writes a data migration for one service: name it with --service.');
    }
    const service = selected[0]!.name;
    const name = migrationName(allocator.take(), service, slugify(options.message, 'data'));
    const file = plan(config, name, service, [], renderMigration({ name, service, dependsOn: [], up: [], down: [], empty: true }), 0);
    if (!options.check && !options.dryRun) {
      const shards = await freshShards(config, stream, [service], true, options.onNote);
      writeFiles(config, [file]);
      const shard = shards.get(service)!;
      writeShard(config.snapshotsDir, { ...shard, migrations: [...shard.migrations, name], checksums: { ...shard.checksums, [name]: checksumOf(file.code) } });
    }
    return { changed: [], files: [file], written: !options.check && !options.dryRun };
  }

  // A check over inputs unchanged since the last clean check is clean: no model needs loading.
  const fingerprint = options.check && options.remember !== false ? checkFingerprint(config, all, stream, options.services) : undefined;
  if (fingerprint && isKnownClean(config, fingerprint)) return { changed: [], files: [], written: false };

  const models = await sayIfSlow(loadModels(config, all, options.orm), options.onNote && (() => options.onNote!(`Loading the models of ${all.length} service${all.length === 1 ? '' : 's'}…`)));
  try {
    const shards = await freshShards(config, stream, selected.map((s) => s.name), !options.check && !options.dryRun, options.onNote);
    const chosen = new Set(selected.map((s) => s.name));
    const found = ownershipTransfers(models, shards);
    // A move is recorded by its new owner's migration: only moves into selected services happen now.
    const transfers = found.filter((t) => chosen.has(t.to));
    const waiting = found.filter((t) => !chosen.has(t.to));
    const diffs = selected
      .map((service) => diffService(models, service.name, shards.get(service.name), options.check, transfersOf(service.name, found)))
      .filter((diff) => diff.up.length > 0 || transfers.some((t) => t.to === diff.service));
    const changed = diffs.map((d) => d.service);
    if (options.check) {
      if (fingerprint && changed.length === 0) rememberClean(config, fingerprint);
      return { changed, statements: Object.fromEntries(diffs.map((d) => [d.service, d.up])), files: [], written: false };
    }
    assertNoDanglingReferences(diffs, models, shards);

    const files: PlannedFile[] = [];
    const mayLoseData = new Set<string>(); // names of the files lint must read
    const latest = new Map<string, string>(); // service → its newest migration, this run's included
    for (const [service, shard] of shards) if (shard.migrations.length > 0) latest.set(service, shard.migrations.at(-1)!);
    for (const diff of orderByForeignKeys(diffs, models.owners)) {
      const name = migrationName(allocator.take(), diff.service, slugify(options.message, diff.createdTables.length > 0 && !shards.get(diff.service)?.migrations.length ? 'initial' : 'auto'));
      const takesOver = transfers.filter((t) => t.to === diff.service);
      const referenced = new Set([...diff.foreignTables].map((table) => ownerOfReferenced(table, diff, models)));
      assertReferencedUpToDate(diff, referenced, diffs, models, shards, found);
      const needs = new Set([...referenced, ...takesOver.map((t) => t.from)]);
      const dependsOn = [...needs].map((service) => latestOf(service, diff, latest)).sort();
      latest.set(diff.service, name);
      const code = renderMigration({ name, service: diff.service, dependsOn, up: diff.up, down: diff.down, irreversible: diff.irreversible, takesOwnership: takesOver.map((t) => ({ table: t.table, from: t.from })) });
      files.push({ ...plan(config, name, diff.service, dependsOn, code, diff.up.length), takesOver: takesOver.map((t) => ({ table: t.table, from: t.from })) });
      if (diff.up.some((sql) => LOSES_DATA.test(sql))) mayLoseData.add(name);
    }
    await noteDestructiveStatements(config, files.filter((file) => mayLoseData.has(file.name)));
    if (options.dryRun || files.length === 0) return { changed, files, written: false };

    writeFiles(config, files);
    for (const diff of diffs) {
      const file = files.find((f) => f.service === diff.service)!;
      const kept = waiting.filter((t) => t.from === diff.service).map((t) => t.definition);
      writeShard(config.snapshotsDir, nextShard(shards.get(diff.service), diff, file, models.owners, kept));
    }
    // The old owners' shards no longer hold what was taken over (their migrations are unchanged).
    for (const from of new Set(transfers.map((t) => t.from))) {
      const shard = shards.get(from)!;
      const gone = new Set(transfers.filter((t) => t.from === from).map((t) => t.table));
      writeShard(config.snapshotsDir, { ...shard, schema: withoutTables(shard.schema, gone) });
    }
    return { changed, files, written: true };
  } finally {
    await models.close();
  }
}

/** Awaits `work`; once it has run a second, `say` is called (a first line within a second for anything slower), never for quick work. */
async function sayIfSlow<T>(work: Promise<T>, say: (() => void) | undefined): Promise<T> {
  const timer = say && setTimeout(say, 1000);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}

interface Transfer {
  table: string;
  from: string;
  to: string;
  /** The table as the old owner's shard records it, and that shard's enum types. */
  definition: any;
  nativeEnums: Record<string, any>;
}

/** Tables the models map in one service while another service's shard holds them: moved entities. */
function ownershipTransfers(models: ModelSet, shards: Map<string, Shard>): Transfer[] {
  const transfers: Transfer[] = [];
  for (const [from, shard] of shards) {
    for (const table of shard.schema.tables) {
      const key = tableKey(table);
      const to = models.owners.get(key);
      if (to && to !== from && !shards.get(to)?.schema.tables.some((t) => tableKey(t) === key)) transfers.push({ table: key, from, to, definition: table, nativeEnums: shard.schema.nativeEnums });
    }
  }
  return transfers;
}

/** What `service` takes over, and what it no longer maps (moved now, or waiting for the new owner to record it). */
function transfersOf(service: string, transfers: Transfer[]): Transfers {
  return {
    incoming: new Map(transfers.filter((t) => t.to === service).map((t) => [t.table, { from: t.from, table: t.definition, nativeEnums: t.nativeEnums }])),
    outgoing: new Set(transfers.filter((t) => t.from === service).map((t) => t.table)),
  };
}

/** The old owner's schema without the tables it gave away — and without the enum types only those used. */
function withoutTables(schema: Shard['schema'], gone: Set<string>): Shard['schema'] {
  return withTables(schema.tables.filter((table) => !gone.has(tableKey(table))), schema.nativeEnums);
}

/**
 * A service may not drop a table or column that another service still references (in its models,
 * or in its shard when it is not changing now): `drop … cascade` would silently take the other
 * service's foreign key with it.
 */
function assertNoDanglingReferences(diffs: ServiceDiff[], models: ModelSet, shards: Map<string, Shard>): void {
  const next = new Map(diffs.map((d) => [d.service, JSON.parse(JSON.stringify(d.target)).tables as any[]]));
  for (const diff of diffs) {
    const dropped = new Set(diff.droppedTables);
    const droppedColumns = new Set(diff.droppedColumns);
    if (dropped.size === 0 && droppedColumns.size === 0) continue;
    for (const [service, shard] of shards) {
      if (service === diff.service) continue;
      for (const table of next.get(service) ?? shard.schema.tables) {
        for (const fk of Object.values<any>(table.foreignKeys ?? {})) {
          const referenced = qualifiedReference(fk.referencedTableName);
          const column = fk.referencedColumnNames?.find((c: string) => droppedColumns.has(`${referenced}.${c}`));
          if (!dropped.has(referenced) && !column) continue;
          const what = column ? `column "${referenced}.${column}"` : `table "${referenced}"`;
          const entity = models.ownerEntity.get(tableKey(table));
          const where = models.ownerFile.get(tableKey(table));
          const from = entity ? `entity ${entity} (table "${tableKey(table)}"${where ? `, ${where}` : ''})` : `table "${tableKey(table)}"`;
          throw new TributaryError(`Service ${diff.service} drops ${what}, which service ${service} still references from ${from}: remove that reference and run makemigrations for ${service} first.`);
        }
      }
    }
  }
}

/**
 * The generated statements that can lose data or break running code (drop a table or a column,
 * change a column's type, drop a default): only files with one are linted. Lint's parser
 * (WebAssembly) keeps ~70 KB of memory per statement it reads, ~500 MB for the initial
 * migrations of 50 services × 20 entities.
 */
const LOSES_DATA = /^\s*drop\s+table\b|\bdrop\s+column\b|\balter\s+column\s+\S+\s+(type|drop\s+default)\b/i;

/** Besides every lint error: the warnings makemigrations names too, since the app may rely on what they remove. */
const WARNED = new Set<string>(['drop-default']);

/**
 * Tells, before anyone runs it (and in a dry run), which statements of a new migration lose data
 * (lint errors: drop table/column, narrowing a type) or remove a default the app may rely on, as
 * Prisma and Django warn before destructive steps. Lints the code about to be written, not the file.
 */
async function noteDestructiveStatements(config: TributaryConfig, files: PlannedFile[]): Promise<void> {
  const definitions = files.flatMap((file) => renderedDefinition({ name: file.name, service: file.service, file: file.file, checksum: checksumOf(file.code) }, file.code) ?? []);
  if (definitions.length === 0) return;
  const report = await lintMigrations(definitions, config.root);
  for (const finding of report.findings.filter((f) => (f.severity === 'error' || WARNED.has(f.rule)) && !f.allowed)) {
    const file = files.find((f) => f.name === finding.migration)!;
    (file.destructive ??= []).push({ rule: finding.rule, severity: finding.severity, statement: finding.statement, message: finding.message, safely: finding.safely });
  }
}

function plan(config: TributaryConfig, name: string, service: string, dependsOn: string[], code: string, statements: number): PlannedFile {
  return { name, service, file: join(config.migrationsDir, `${name}.ts`), code, dependsOn, statements };
}

function writeFiles(config: TributaryConfig, files: PlannedFile[]): void {
  try {
    mkdirSync(config.migrationsDir, { recursive: true });
    for (const file of files) writeFileSync(file.file, file.code, { flag: 'wx' });
  } catch (error) {
    throw new TributaryError(`Cannot write to ${relative(config.root, config.migrationsDir) || '.'}: ${(error as Error).message}`, { cause: error });
  }
}

/** Services whose new tables others reference in this run come first. */
function orderByForeignKeys(diffs: ServiceDiff[], owners: Map<string, string>): ServiceDiff[] {
  const byService = new Map(diffs.map((d) => [d.service, d]));
  const ordered: ServiceDiff[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (diff: ServiceDiff) => {
    if (state.get(diff.service)) return; // done, or a cycle: fall back to name order
    state.set(diff.service, 'visiting');
    for (const table of [...diff.foreignTables].sort()) {
      const owner = byService.get(owners.get(table) ?? '');
      if (owner && owner.createdTables.includes(table)) visit(owner);
    }
    state.set(diff.service, 'done');
    ordered.push(diff);
  };
  for (const diff of diffs) visit(diff);
  return ordered;
}

function ownerOfReferenced(table: string, diff: ServiceDiff, models: ModelSet): string {
  const owner = models.owners.get(table);
  if (owner) return owner;
  throw new TributaryError(`Service ${diff.service} adds a foreign key to table "${table}", which no service's models map.`);
}

/**
 * A foreign key into a service that is not part of this run must point at what that service's
 * stream already has: if its models changed without a migration (the column the key needs, say),
 * depending on its newest migration would not be enough.
 */
function assertReferencedUpToDate(diff: ServiceDiff, referenced: Set<string>, diffs: ServiceDiff[], models: ModelSet, shards: Map<string, Shard>, transfers: Transfer[]): void {
  for (const service of referenced) {
    if (service === diff.service || diffs.some((d) => d.service === service)) continue;
    if (diffService(models, service, shards.get(service), true, transfersOf(service, transfers)).up.length === 0) continue;
    throw new TributaryError(`Service ${diff.service} adds a foreign key into service ${service}, whose models changed without a migration: run makemigrations for ${service} first (or without --service).`);
  }
}

/** Django's rule: a migration that needs another service's tables depends on that service's newest migration. */
function latestOf(service: string, diff: ServiceDiff, latest: Map<string, string>): string {
  const name = latest.get(service);
  if (name) return name;
  throw new TributaryError(`Service ${diff.service} adds a foreign key to a table of service ${service}, which has no migration yet: run makemigrations for ${service} first (or without --service).`);
}

/** `kept`: tables moving to a service that has not recorded the move yet; they stay in this shard until it does. */
function nextShard(previous: Shard | undefined, diff: ServiceDiff, file: PlannedFile, owners: Map<string, string>, kept: any[]): Shard {
  const schema = serializeTables(diff.target, (table) => owners.get(table) === diff.service);
  const tables = [...schema.tables, ...kept].sort((a, b) => (tableKey(a) < tableKey(b) ? -1 : 1));
  return {
    format: SHARD_FORMAT,
    service: diff.service,
    migrations: [...(previous?.migrations ?? []), file.name],
    checksums: { ...previous?.checksums, [file.name]: checksumOf(file.code) },
    schema: withTables(tables, { ...previous?.schema.nativeEnums, ...schema.nativeEnums }),
  };
}
