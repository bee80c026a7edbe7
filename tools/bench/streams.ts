/**
 * Generates migration streams for the migrate and showmigrations/check benchmarks — files
 * rendered by Tributary's own writer — and the psql scripts that run the same statements with
 * the same transaction boundaries, lock and history inserts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lockKey } from '../../libs/migrate/src/db/lock.ts';
import { renderMigration } from '../../libs/migrate/src/diff/writer.ts';
import { readShard, writeShard } from '../../libs/migrate/src/diff/snapshot.ts';
import { formatTimestamp, migrationName, parseTimestamp } from '../../libs/migrate/src/stream/naming.ts';
import { checksumOf, readStream } from '../../libs/migrate/src/stream/stream.ts';
import type { BenchWorkspace } from './workspace.ts';

export const HISTORY = '"public"."tributary_migrations"';

export interface WrittenMigration {
  name: string;
  service: string;
  file: string;
  up: string[];
}

/** Consecutive timestamps, one second apart, from `start`. */
function clock(start: Date): () => string {
  let next = Math.floor(start.getTime() / 1000) * 1000;
  return () => {
    const stamp = formatTimestamp(new Date(next));
    next += 1000;
    return stamp;
  };
}

function write(ws: BenchWorkspace, name: string, service: string, up: string[], down: string[]): WrittenMigration {
  const file = ws.path('migrations', `${name}.ts`);
  writeFileSync(file, renderMigration({ name, service, dependsOn: [], up, down }));
  return { name, service, file, up };
}

const table = (k: number) => `"bench_${String(k).padStart(5, '0')}"`;
const createTable = (k: number) => `create table ${table(k)} ("id" serial primary key, "name" varchar(200) not null, "created_at" timestamptz not null default now());`;

/** `count` migrations of one statement each: create a table, add a column to it, index it. */
export function oneStatementStream(ws: BenchWorkspace, count: number, services = 10): WrittenMigration[] {
  const tick = clock(new Date('2026-01-01T00:00:00Z'));
  const written: WrittenMigration[] = [];
  for (let i = 0; i < count; i++) {
    const k = Math.floor(i / 3);
    const steps: Array<[string, string, string]> = [
      ['create_table', createTable(k), `drop table ${table(k)};`],
      ['add_note', `alter table ${table(k)} add column "note" text null;`, `alter table ${table(k)} drop column "note";`],
      ['index_name', `create index "bench_${k}_name_index" on ${table(k)} ("name");`, `drop index "bench_${k}_name_index";`],
    ];
    const [slug, up, down] = steps[i % 3]!;
    const service = `svc-${String(i % services).padStart(3, '0')}`;
    written.push(write(ws, migrationName(tick(), service, slug), service, [up], [down]));
  }
  return written;
}

/**
 * One migration of `statements` statements, the shape of a large data migration: every hundred
 * statements a new table with an index, then rows inserted into it and updated.
 */
export function bigMigration(ws: BenchWorkspace, statements: number): WrittenMigration {
  const up: string[] = [];
  for (let i = 0; up.length < statements; i++) {
    const k = Math.floor(i / 100);
    if (i % 100 === 0) up.push(createTable(k), `create index "bench_${k}_name_index" on ${table(k)} ("name");`);
    else if (i % 2 === 1) up.push(`insert into ${table(k)} ("name") values ('row ${i}');`);
    else up.push(`update ${table(k)} set "name" = 'row ${i} renamed' where "name" = 'row ${i - 1}';`);
  }
  up.length = statements;
  const name = migrationName(clock(new Date('2026-01-01T00:00:00Z'))(), 'svc-000', 'big');
  return write(ws, name, 'svc-000', up, []);
}

/**
 * Appends data migrations to a stream that makemigrations started, round-robin over the
 * services, until it holds `total` migrations; each service's shard lists its new ones so the
 * shards stay fresh (as `makemigrations --empty` keeps them).
 */
export function growStream(ws: BenchWorkspace, total: number): void {
  const stream = readStream(ws.path('migrations'));
  const services = ws.services;
  const tick = clock(new Date(parseTimestamp(stream.at(-1)!.name.slice(0, 15)).getTime() + 1000));
  const added = new Map<string, string[]>();
  for (let i = stream.length; i < total; i++) {
    const service = services[i % services.length]!;
    const tableName = `s${service.slice(4)}_account`;
    const name = migrationName(tick(), service, `backfill_${i}`);
    write(ws, name, service, [`update "${tableName}" set "quantity" = "quantity" + 0 where "quantity" < 0;`], []);
    added.set(service, [...(added.get(service) ?? []), name]);
  }
  const snapshots = ws.path('migrations', '.snapshots');
  for (const [service, names] of added) {
    const state = readShard(snapshots, service);
    if (state.status !== 'ok') throw new Error(`bench: shard of ${service} is ${state.status}`);
    const checksums = Object.fromEntries(names.map((name) => [name, checksumOf(readFileSync(ws.path('migrations', `${name}.ts`)))]));
    writeShard(snapshots, { ...state.shard, migrations: [...state.shard.migrations, ...names], checksums: { ...state.shard.checksums, ...checksums } });
  }
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function historyInsert(m: WrittenMigration): string {
  const checksum = checksumOf(readFileSync(m.file));
  return `insert into ${HISTORY} ("name", "service", "checksum", "execution_ms", "status") values (${literal(m.name)}, ${literal(m.service)}, ${literal(checksum)}, 0, 'applied');`;
}

/**
 * The psql equivalent of `migrate`: the advisory lock, then each migration's statements and
 * history row in one transaction with the same `lock_timeout`. With `singleTransaction`, the
 * script is meant for `psql -1` (no begin/commit of its own).
 */
export function psqlScript(dir: string, migrations: WrittenMigration[], options: { singleTransaction?: boolean; lockTimeout?: string } = {}): string {
  const key = lockKey('public.tributary_migrations');
  const lockTimeout = options.lockTimeout ?? '5s';
  const lines = ['\\set ON_ERROR_STOP on', `select pg_advisory_lock(${key});`];
  for (const m of migrations) {
    if (!options.singleTransaction) lines.push('begin;');
    lines.push(`set local lock_timeout = '${lockTimeout}';`, ...m.up, historyInsert(m));
    if (!options.singleTransaction) lines.push('commit;');
  }
  lines.push(`select pg_advisory_unlock(${key});`);
  const file = join(dir, options.singleTransaction ? 'baseline-single.sql' : 'baseline.sql');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
