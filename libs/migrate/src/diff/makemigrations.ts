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
import { loadModels } from '../models/index.ts';
import { migrationName, slugify, TimestampAllocator } from '../stream/naming.ts';
import { readStream } from '../stream/stream.ts';
import { checkFingerprint, isKnownClean, rememberClean } from './check-cache.ts';
import { diffService, type ServiceDiff } from './differ.ts';
import { freshShards } from './rebuild.ts';
import { serializeTables, sortKeys, writeShard, type Shard } from './snapshot.ts';
import { renderMigration } from './writer.ts';

export interface MakeMigrationsOptions {
  message?: string;
  services?: string[];
  empty?: boolean;
  /** Write nothing; report which services have model changes without a migration. */
  check?: boolean;
  /** Write nothing; return the files that would be written. */
  dryRun?: boolean;
  /** An ORM the caller has initialised with exactly the workspace's models (an app at boot): its metadata is reused, not discovered again. */
  orm?: MikroORM;
  now?: Date;
}

export interface PlannedFile {
  name: string;
  service: string;
  file: string;
  code: string;
  dependsOn: string[];
  statements: number;
}

export interface MakeMigrationsResult {
  /** Services whose models differ from the stream (among those selected). */
  changed: string[];
  files: PlannedFile[];
  written: boolean;
}

export async function makeMigrations(config: TributaryConfig, options: MakeMigrationsOptions = {}): Promise<MakeMigrationsResult> {
  const all = discoverServices(config);
  if (all.length === 0) {
    throw new TributaryError(`No services found in ${config.root}: a service is a project folder (project.json or package.json) with src/db/models/.`);
  }
  const selected = selectServices(all, options.services);
  const stream = readStream(config.migrationsDir);
  const allocator = new TimestampAllocator(stream.at(-1)?.name.slice(0, 15), options.now);

  if (options.empty) {
    if (selected.length !== 1 || !options.services?.length) {
      throw new TributaryError('makemigrations --empty writes a data migration for one service: name it with --service.');
    }
    const service = selected[0]!.name;
    const name = migrationName(allocator.take(), service, slugify(options.message, 'data'));
    const file = plan(config, name, service, [], renderMigration({ name, service, dependsOn: [], up: [], down: [], empty: true }), 0);
    if (!options.check && !options.dryRun) {
      const models = await loadModels(config, all);
      const shards = await freshShards(config, stream, models, [service]);
      writeFiles(config, [file]);
      const shard = shards.get(service)!;
      writeShard(config.snapshotsDir, { ...shard, migrations: [...shard.migrations, name] });
      await models.close();
    }
    return { changed: [], files: [file], written: !options.check && !options.dryRun };
  }

  // A check over inputs unchanged since the last clean check is clean: no model needs loading.
  const fingerprint = options.check ? checkFingerprint(config, all, stream, options.services) : undefined;
  if (fingerprint && isKnownClean(config, fingerprint)) return { changed: [], files: [], written: false };

  const models = await loadModels(config, all, options.orm);
  try {
    const shards = await freshShards(config, stream, models, selected.map((s) => s.name), !options.check && !options.dryRun);
    const diffs = selected
      .map((service) => diffService(models, service.name, shards.get(service.name), options.check))
      .filter((diff) => diff.up.length > 0);
    const changed = diffs.map((d) => d.service);
    if (options.check) {
      if (fingerprint && changed.length === 0) rememberClean(config, fingerprint);
      return { changed, files: [], written: false };
    }

    const files: PlannedFile[] = [];
    const createdNow = new Map<string, string>(); // table → new migration creating it
    for (const diff of orderByForeignKeys(diffs, models.owners)) {
      const name = migrationName(allocator.take(), diff.service, slugify(options.message, diff.createdTables.length > 0 && !shards.get(diff.service)?.migrations.length ? 'initial' : 'auto'));
      const dependsOn = [...diff.foreignTables].map((table) => creatorOf(table, diff, models.owners, shards, createdNow)).sort();
      for (const table of diff.createdTables) createdNow.set(table, name);
      files.push(plan(config, name, diff.service, dependsOn, renderMigration({ name, service: diff.service, dependsOn, up: diff.up, down: diff.down }), diff.up.length));
    }
    if (options.dryRun || files.length === 0) return { changed, files, written: false };

    writeFiles(config, files);
    for (const diff of diffs) {
      const file = files.find((f) => f.service === diff.service)!;
      writeShard(config.snapshotsDir, nextShard(shards.get(diff.service), diff, file.name, models.owners));
    }
    return { changed, files, written: true };
  } finally {
    await models.close();
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

function creatorOf(table: string, diff: ServiceDiff, owners: Map<string, string>, shards: Map<string, Shard>, createdNow: Map<string, string>): string {
  const created = createdNow.get(table) ?? shards.get(owners.get(table) ?? '')?.createdBy[table];
  if (created) return created;
  const owner = owners.get(table);
  throw new TributaryError(owner
    ? `Service ${diff.service} adds a foreign key to table "${table}" of service ${owner}, which no migration creates yet: run makemigrations for ${owner} first (or without --service).`
    : `Service ${diff.service} adds a foreign key to table "${table}", which no service's models map.`);
}

function nextShard(previous: Shard | undefined, diff: ServiceDiff, name: string, owners: Map<string, string>): Shard {
  const createdBy = { ...(previous?.createdBy ?? {}) };
  for (const table of diff.droppedTables) delete createdBy[table];
  for (const table of diff.createdTables) createdBy[table] = name;
  return {
    service: diff.service,
    migrations: [...(previous?.migrations ?? []), name],
    createdBy: sortKeys(createdBy),
    schema: serializeTables(diff.target, (table) => owners.get(table) === diff.service),
  };
}
