/**
 * Pipelined apply on PostgreSQL with the real CLI: consecutive migrations of the writer's shape
 * (read, not imported) share round trips, yet each is still its own transaction with its history
 * row. A failure stops the pipeline where it happened — the migrations before it applied, none
 * after — and is reported exactly as when the same migration runs on its own (an imported file
 * of other shape); a lost lock stops it before the next migration; a lock timeout is retried
 * only as --lock-retries allows.
 */
import { describe, expect, it } from 'vitest';
import { renderMigration } from '../libs/migrate/src/diff/writer.ts';
import { checksumOf } from '../libs/migrate/src/stream/stream.ts';
import { workspaceWithDatabase } from './support/fixture.ts';
import { migrationSource } from './support/migrations.ts';
import { modulesLoadedBy, packagesAmong } from './support/loaded-modules.ts';
import { busyTable } from './support/table-lock.ts';

const { ws, db, env } = workspaceWithDatabase({ withStream: false });

/** A migration file exactly as makemigrations writes it (so it is pipelined). */
function rendered(name: string, up: string[]): void {
  ws.write(`migrations/${name}.ts`, renderMigration({ name, service: 'auth-service', dependsOn: [], up, down: [] }));
}

const applied = async () => (await db.query(`select name from tributary_migrations where status = 'applied' order by id`)).map((r) => r.name as string);
const tableExists = async (name: string) => (await db.query(`select to_regclass($1) is not null as e`, [name]))[0].e as boolean;
const errorLine = (stderr: string) => stderr.split('\n').find((line) => line.startsWith('error: '));

describe('consecutive generated migrations', () => {
  it('go out together, each committed with its own history row (checksum, time) in its own transaction', async () => {
    rendered('20300101_000001_auth-service_a', ['create table "a" ("id" int)']);
    rendered('20300101_000002_auth-service_b', ['create table "b" ("id" int)', 'insert into "b" values (1)']);
    rendered('20300101_000003_auth-service_c', ['create table "c" ("id" int)']);
    const result = await ws.migrate(['migrate'], env);
    expect(result.code, result.stderr).toBe(0);
    // All three leave before the first commits: one round trip.
    const lines = result.stdout.split('\n').filter((l) => /Applying|applied/.test(l));
    expect(lines.slice(0, 3).every((l) => l.startsWith('Applying '))).toBe(true);
    expect(result.stdout).toContain('Applied 3 migrations');
    const rows = await db.query(`select name, checksum, status, execution_ms, xmin::text::bigint as xid from tributary_migrations order by id`);
    expect(rows.map((r) => r.name)).toEqual(['20300101_000001_auth-service_a', '20300101_000002_auth-service_b', '20300101_000003_auth-service_c']);
    for (const row of rows) {
      expect(row.checksum).toBe(checksumOf(ws.read(`migrations/${row.name}.ts`)));
      expect(row.status).toBe('applied');
      expect(row.execution_ms).toBeGreaterThanOrEqual(0);
    }
    expect(new Set(rows.map((r) => r.xid)).size).toBe(3); // three transactions
    // Each table was created in the transaction of its own history row.
    const xids = await db.query(`select relname, xmin::text::bigint as xid from pg_class where relname in ('a', 'b', 'c') order by relname`);
    expect(xids.map((r) => r.xid)).toEqual(rows.map((r) => r.xid));
  });
});

describe('a migration failing in the middle of a pipeline', () => {
  const failing = ['create table "f" ("id" int primary key)', 'insert into "f" values (1)', 'insert into "f" values (1)'];

  it('leaves the ones before it applied and none after, and names the file and the statement', async () => {
    rendered('20300101_000004_auth-service_d', ['create table "d" ("id" int)']);
    rendered('20300101_000005_auth-service_e', ['create table "e" ("id" int)']);
    rendered('20300101_000006_auth-service_f', failing);
    rendered('20300101_000007_auth-service_g', ['create table "g" ("id" int)']);
    const result = await ws.migrate(['migrate'], env);
    expect(result.code).toBe(1);
    expect(errorLine(result.stderr)).toMatch(/^error: Migration migrations\/20300101_000006_auth-service_f\.ts failed at statement 3 \(insert into "f" values \(1\)\): duplicate key value violates unique constraint "f_pkey"/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    // Sent together, then run again on its own to name the statement: told once.
    expect(result.stdout.match(/^Applying \d+\/\d+ 20300101_000006_auth-service_f$/gm)).toHaveLength(1);
    expect((await applied()).slice(3)).toEqual(['20300101_000004_auth-service_d', '20300101_000005_auth-service_e']);
    expect(await db.query(`select count(*)::int as n from tributary_migrations`)).toEqual([{ n: 5 }]); // no failed row
    expect([await tableExists('d'), await tableExists('e'), await tableExists('f'), await tableExists('g')]).toEqual([true, true, false, false]);
  });

  it('is reported word for word as the same migration run on its own (an imported file)', async () => {
    const pipelined = await ws.migrate(['migrate'], env);
    ws.write('migrations/20300101_000006_auth-service_f.ts', migrationSource(failing));
    const alone = await ws.migrate(['migrate'], env);
    expect(alone.code).toBe(1);
    expect(errorLine(pipelined.stderr)).toBe(errorLine(alone.stderr));
    expect((await applied()).length).toBe(5);
  });

  it('applies the rest once fixed', async () => {
    rendered('20300101_000006_auth-service_f', ['create table "f" ("id" int primary key)', 'insert into "f" values (1)', 'insert into "f" values (2)']);
    const result = await ws.migrate(['migrate'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Applied 2 migrations');
    expect((await applied()).slice(-2)).toEqual(['20300101_000006_auth-service_f', '20300101_000007_auth-service_g']);
  });
});

describe('the migration lock inside a pipeline', () => {
  it('is proved in each migration: one that releases it is the last applied', async () => {
    rendered('20300101_000008_auth-service_h', ['create table "h" ("id" int)', 'select pg_advisory_unlock_all()']);
    rendered('20300101_000009_auth-service_i', ['create table "i" ("id" int)']);
    const result = await ws.migrate(['migrate'], env);
    expect(result.code).toBe(1);
    expect(errorLine(result.stderr)).toContain('Lost the migration lock on PostgreSQL');
    expect(errorLine(result.stderr)).toContain('before 20300101_000009_auth-service_i; stopped without starting it — migrations applied before it stay applied.');
    expect((await applied()).at(-1)).toBe('20300101_000008_auth-service_h');
    expect(await tableExists('i')).toBe(false);
    ws.remove('migrations/20300101_000009_auth-service_i.ts');
  });
});

describe('a lock timeout inside a pipeline', () => {
  const busy = busyTable(db);
  it('fails fast, with the message of a migration run alone, the ones before it applied', async () => {
    rendered('20300101_000010_auth-service_j', ['create table "j" ("id" int)']);
    rendered('20300101_000011_auth-service_busy', ['alter table "busy" add column "note" text']);
    rendered('20300101_000012_auth-service_k', ['create table "k" ("id" int)']);
    await busy.hold();
    try {
      const result = await ws.migrate(['migrate', '--lock-timeout', '300ms'], env);
      expect(result.code).toBe(1);
      expect(errorLine(result.stderr)).toBe(
        'error: Migration migrations/20300101_000011_auth-service_busy.ts failed at statement 1 (alter table "busy" add column "note" text): canceling statement due to lock timeout (another session holds a conflicting lock on a table it changes; retry later, or use --lock-retries N or a longer --lock-timeout)',
      );
      expect((await applied()).at(-1)).toBe('20300101_000010_auth-service_j');
      expect(await tableExists('k')).toBe(false);
    } finally {
      await busy.release();
    }
  });

  it('--lock-retries retries it once the lock is gone, then goes on', async () => {
    const result = await busy.migrateThroughOneRetry(ws, env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('20300101_000011_auth-service_busy: Migration migrations/20300101_000011_auth-service_busy.ts failed at statement 1');
    expect((await applied()).slice(-2)).toEqual(['20300101_000011_auth-service_busy', '20300101_000012_auth-service_k']);
  });
});

describe('what applying and reverting generated migrations loads', () => {
  const modulesLoadedByMigrate = (args: string[]) => modulesLoadedBy(ws, args, env);
  const from = packagesAmong;

  it('is neither MikroORM nor the embedded database; the SQL parser only for files lint has not judged yet', async () => {
    const withDown = (name: string, up: string, down: string) => ws.write(`migrations/${name}.ts`, renderMigration({ name, service: 'auth-service', dependsOn: [], up: [up], down: [down] }));
    const table = `lean_${process.pid}_${Date.now()}`; // files never linted before (lint verdicts are kept in node_modules/.cache)
    withDown('20300101_000013_auth-service_lean_a', `create table "${table}" ("id" int)`, `drop table "${table}"`);
    withDown('20300101_000014_auth-service_lean_b', `alter table "${table}" add column "note" text null`, `alter table "${table}" drop column "note"`);
    const first = await modulesLoadedByMigrate(['migrate']);
    expect(from(first, '@mikro-orm/core', 'kysely', '@electric-sql/pglite')).toEqual([]);
    expect(from(first, 'libpg-query')).toEqual(['libpg-query']); // linted before anything ran
    expect((await applied()).slice(-2)).toEqual(['20300101_000013_auth-service_lean_a', '20300101_000014_auth-service_lean_b']);

    expect(from(await modulesLoadedByMigrate(['rollback', '-s', '2', '--dry-run']), '@mikro-orm/core', 'kysely')).toEqual([]); // dry runs too
    const rolledBack = await modulesLoadedByMigrate(['rollback', '-s', '2']); // their down() too
    expect(from(rolledBack, '@mikro-orm/core', 'kysely')).toEqual([]);
    expect(await tableExists(table)).toBe(false);
    const again = await modulesLoadedByMigrate(['migrate']);
    expect(from(again, '@mikro-orm/core', 'kysely', '@electric-sql/pglite', 'libpg-query')).toEqual([]); // same files: verdict remembered
    expect((await applied()).slice(-2)).toEqual(['20300101_000013_auth-service_lean_a', '20300101_000014_auth-service_lean_b']);
  });

  it('is not MikroORM either when one generated migration is pending alone', async () => {
    const table = `alone_${process.pid}_${Date.now()}`;
    rendered('20300101_000015_auth-service_alone', [`create table "${table}" ("id" int)`]);
    const dry = await modulesLoadedByMigrate(['migrate', '--dry-run']);
    expect(from(dry, '@mikro-orm/core', 'kysely')).toEqual([]);
    expect(await tableExists(table)).toBe(false);
    const loaded = await modulesLoadedByMigrate(['migrate']);
    expect(from(loaded, '@mikro-orm/core', 'kysely')).toEqual([]);
    expect((await applied()).at(-1)).toBe('20300101_000015_auth-service_alone');
    expect(await tableExists(table)).toBe(true);
  });
});
