/**
 * Backups round-trip data: `migrate --backup` dumps the database before applying, a broken
 * migration destroys data (non-transactional, so nothing rolls it back), and `migrate restore`
 * brings back the rows, the schema and the history exactly as they were — on PostgreSQL and PGlite.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/database.ts';
import { workspaceFixture, workspaceWithDatabase } from './support/fixture.ts';
import { describeSchema } from './support/schema.ts';
import { migrationSource as migration } from './support/migrations.ts';
import type { Workspace } from './support/workspace.ts';

const BROKEN = migration(['delete from "user"', 'create table "scratch" ("id" int)', 'select no_such_function()'], { transactional: false });

const SEED = `insert into "user" ("email", "display_name") values ('ada@example.com', 'Ada'), ('alan@example.com', 'Alan')`;

function backupsOf(ws: Workspace): string[] {
  return readdirSync(ws.path('.data/backups')).filter((f) => f.endsWith('.sql'));
}

/** Permission bits of a file or folder of the workspace. */
function modeOf(ws: Workspace, file: string): number {
  return statSync(ws.path(file)).mode & 0o777;
}

/** Runs queries on the workspace's embedded database while no CLI holds it. */
async function onEmbedded<T>(ws: Workspace, fn: (pglite: PGlite) => Promise<T>): Promise<T> {
  const pglite = await PGlite.create({ dataDir: ws.path('.data/pglite') });
  try {
    return await fn(pglite);
  } finally {
    await pglite.close();
  }
}

describe('backup and restore on PostgreSQL', () => {
  const { ws, db, env } = workspaceWithDatabase();

  it('restores data, schema and history after a broken migration', async () => {
    expect((await ws.migrate(['migrate'], env)).code).toBe(0);
    await db.query(SEED);
    const schemaBefore = await describeSchema(db.query);
    const historyBefore = await db.query(`select name, status from tributary_migrations order by id`);

    ws.write('migrations/20300101_000000_auth-service_broken.ts', BROKEN);
    const broken = await ws.migrate(['migrate', '--backup'], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/Backed up the database to \.data\/backups\/\d{8}_\d{6}\.sql/);
    expect(broken.stderr).toContain('20300101_000000_auth-service_broken.ts is non-transactional and failed at statement 3 of 3');
    expect(await db.query(`select * from "user"`)).toEqual([]); // the damage is real
    expect(await db.query(`select to_regclass('scratch') as t`)).toEqual([{ t: 'scratch' }]);

    const [backup] = backupsOf(ws);
    const restored = await ws.migrate(['restore', '--yes', `.data/backups/${backup}`], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`Restored .data/backups/${backup} into PostgreSQL`);
    expect((await db.query(`select email from "user" order by email`)).map((r) => r.email)).toEqual(['ada@example.com', 'alan@example.com']);
    expect(await describeSchema(db.query)).toEqual(schemaBefore); // "scratch" is gone again
    expect(await db.query(`select name, status from tributary_migrations order by id`)).toEqual(historyBefore);
  });

  it('takes no backup when nothing is pending, and one per run when the config asks for it', async () => {
    ws.remove('migrations/20300101_000000_auth-service_broken.ts');
    const before = backupsOf(ws).length;
    expect((await ws.migrate(['migrate', '--backup'], env)).stdout).toContain('No migrations to apply.');
    expect(backupsOf(ws)).toHaveLength(before);

    ws.write('tributary.config.json', JSON.stringify({ backupBeforeMigrate: true }));
    ws.write('migrations/20300101_000001_auth-service_fine.ts', migration(['create table "fine" ("id" int)']));
    const result = await ws.migrate(['migrate'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(backupsOf(ws)).toHaveLength(before + 1);
    ws.remove('tributary.config.json');
  });

  it('refuses a file that is not a backup, and a missing one, naming it', async () => {
    ws.write('notes.sql', 'select 1;');
    const wrong = await ws.migrate(['restore', '--yes', 'notes.sql'], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('notes.sql is not a pg_dump SQL file');
    const missing = await ws.migrate(['restore', '--yes', 'nope.sql'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Backup nope.sql does not exist.');
    // outside the workspace: the path as given, not one climbing out of it
    const outside = await ws.migrate(['restore', '--yes', '/tmp/tributary-no-such-backup.sql'], env);
    expect(outside.code).toBe(1);
    expect(outside.stderr.trim()).toBe('error: Backup /tmp/tributary-no-such-backup.sql does not exist.');
  });
});

describe('backup and restore on PGlite', () => {
  const ws = workspaceFixture();

  it('restores data after a broken migration', async () => {
    expect((await ws.migrate(['migrate'])).code).toBe(0);
    ws.write('migrations/20300101_000000_auth-service_seed.ts', migration([SEED]));
    expect((await ws.migrate(['migrate'])).code).toBe(0);

    ws.write('migrations/20300101_000001_auth-service_broken.ts', BROKEN);
    const broken = await ws.migrate(['migrate', '--backup']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('Backed up the database');
    const [backup] = backupsOf(ws);

    const restored = await ws.migrate(['restore', '--yes', `.data/backups/${backup}`]);
    expect(restored.code, restored.stderr).toBe(0);
    ws.remove('migrations/20300101_000001_auth-service_broken.ts');
    const shown = await ws.migrate(['showmigrations', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ applied: 4, pending: 0 });
    // the seed's rows are back: rolling the seed back would need a down(); read them through a migration instead
    ws.write('migrations/20300101_000002_auth-service_count.ts', migration([`do $$ begin if (select count(*) from "user") <> 2 then raise exception 'rows lost'; end if; end $$`]));
    const counted = await ws.migrate(['migrate']);
    expect(counted.code, counted.stderr).toBe(0);
  });
});

describe('backup before migrating on PGlite', () => {
  const ws = workspaceFixture();

  beforeAll(async () => {
    expect((await ws.migrate(['migrate'])).code).toBe(0);
    ws.write('migrations/20300101_000000_auth-service_seed.ts', migration([SEED]));
    expect((await ws.migrate(['migrate'])).code).toBe(0);
  });

  it('migrate --backup backs up, then applies the pending migrations', async () => {
    ws.write('migrations/20300101_000001_auth-service_notes.ts', migration(['create table "note" ("id" int primary key, "body" text)', `insert into "note" values (1, 'kept')`]));
    const result = await ws.migrate(['migrate', '--backup']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/Backed up the database to \.data\/backups\/\d{8}_\d{6}\.sql/);
    expect(await onEmbedded(ws, async (pg) => (await pg.query(`select body from "note"`)).rows)).toEqual([{ body: 'kept' }]);
    // the session the migrations ran on is as it was before the dump
    ws.write('migrations/20300101_000002_auth-service_session.ts', migration([
      `do $$ begin if current_setting('transaction_read_only') = 'on' or current_setting('row_security') = 'off' or current_setting('restrict_nonsystem_relation_kind') <> '' then raise exception 'session left by pg_dump'; end if; end $$`,
    ]));
    const next = await ws.migrate(['migrate', '--backup']);
    expect(next.code, next.stderr).toBe(0);
  });

  it('the backup file is readable by its owner only, and restores the database as it was', async () => {
    const [first] = backupsOf(ws).sort();
    expect(modeOf(ws, `.data/backups/${first}`)).toBe(0o600);
    expect(modeOf(ws, '.data/backups')).toBe(0o700);
    const restored = await ws.migrate(['restore', '--yes', `.data/backups/${first}`]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await onEmbedded(ws, async (pg) => (await pg.query(`select to_regclass('note') as t, (select count(*)::int from "user") as users`)).rows)).toEqual([{ t: null, users: 2 }]);
    const shown = await ws.migrate(['showmigrations', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ pending: 2 });
    const again = await ws.migrate(['migrate']);
    expect(again.code, again.stderr).toBe(0);
  });

  it('backupBeforeMigrate in tributary.config.json backs up and migrates, as npm start does', async () => {
    ws.write('tributary.config.json', JSON.stringify({ backupBeforeMigrate: true }));
    ws.write('migrations/20300101_000003_auth-service_more.ts', migration(['create table "more" ("id" int)']));
    const before = backupsOf(ws).length;
    try {
      const result = await ws.migrate(['migrate']);
      expect(result.code, result.stderr).toBe(0);
      expect(backupsOf(ws)).toHaveLength(before + 1);
      expect(await onEmbedded(ws, async (pg) => (await pg.query(`select to_regclass('more') as t`)).rows)).toEqual([{ t: 'more' }]);
    } finally {
      ws.remove('tributary.config.json');
    }
  });
});

describe('backup and restore on PostgreSQL with a password', () => {
  const ROLE = `tributary_backup_${process.pid}`;
  const SECRET = 'not-in-argv-7f3a';
  let bin: string;
  let env: Record<string, string>;
  // Registered before the fixture's hooks, so that it runs after the database the role owns is dropped.
  afterAll(async () => {
    await createTestDatabase().then(async (other) => {
      await other.query(`drop role if exists "${ROLE}"`);
      await other.drop();
    });
    if (bin) rmSync(bin, { recursive: true, force: true });
  });
  const { ws, db } = workspaceWithDatabase();

  beforeAll(async () => {
    await db.query(`create role "${ROLE}" login password '${SECRET}'`);
    await db.query(`alter database "${db.name}" owner to "${ROLE}"`);
    // pg_dump and psql as the CLI starts them: a wrapper first on PATH records argv and PGPASSWORD
    bin = mkdtempSync(join(tmpdir(), 'tributary-argv-'));
    for (const tool of ['pg_dump', 'psql']) {
      const wrapper = join(bin, tool);
      writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "${tool} $*" "env PGPASSWORD=$PGPASSWORD" >> "${bin}/calls.log"\nexec /usr/bin/${tool} "$@"\n`);
      chmodSync(wrapper, 0o755);
    }
    env = { DATABASE_URL: db.url.replace('postgres://postgres@', `postgres://${ROLE}:${SECRET}@`), PATH: `${bin}:${process.env.PATH}` };
  });

  it('dumps and restores without the password in any argv', async () => {
    expect((await ws.migrate(['migrate'], env)).code).toBe(0);
    await db.query(SEED);
    ws.write('migrations/20300101_000000_auth-service_notes.ts', migration(['create table "note" ("id" int)']));
    const migrated = await ws.migrate(['migrate', '--backup'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    const [backup] = backupsOf(ws);
    expect(modeOf(ws, `.data/backups/${backup}`)).toBe(0o600);
    expect(readFileSync(ws.path(`.data/backups/${backup}`), 'utf8')).toContain('ada@example.com');

    const restored = await ws.migrate(['restore', '--yes', `.data/backups/${backup}`], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await db.query(`select to_regclass('note') as t`)).toEqual([{ t: null }]);

    const calls = readFileSync(join(bin, 'calls.log'), 'utf8').trim().split('\n');
    expect(calls.filter((line) => line.startsWith('pg_dump ') || line.startsWith('psql '))).toHaveLength(2);
    for (const line of calls.filter((l) => !l.startsWith('env '))) expect(line).not.toContain(SECRET);
    expect(calls.filter((line) => line.startsWith('env '))).toEqual([`env PGPASSWORD=${SECRET}`, `env PGPASSWORD=${SECRET}`]);
  });
});
