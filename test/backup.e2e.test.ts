/**
 * Backups round-trip data: `migrate --backup` dumps the database before applying, a broken
 * migration destroys data (non-transactional, so nothing rolls it back), and `migrate restore`
 * brings back the rows, the schema and the history exactly as they were — on PostgreSQL and PGlite.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { describeSchema } from './support/schema.ts';
import { migrationSource as migration } from './support/migrations.ts';
import { scratchWorkspace, type Workspace } from './support/workspace.ts';

const BROKEN = migration(['delete from "user"', 'create table "scratch" ("id" int)', 'select no_such_function()'], { transactional: false });

const SEED = `insert into "user" ("email", "display_name") values ('ada@example.com', 'Ada'), ('alan@example.com', 'Alan')`;

function backupsOf(ws: Workspace): string[] {
  return readdirSync(ws.path('.data/backups')).filter((f) => f.endsWith('.sql'));
}

describe('backup and restore on PostgreSQL', () => {
  let ws: Workspace;
  let db: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    ws = scratchWorkspace();
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url };
  });
  afterAll(async () => {
    await db?.drop();
    ws?.dispose();
  });

  it('restores data, schema and history after a broken migration', async () => {
    expect((await ws.migrate(['migrate'], env)).code).toBe(0);
    await db.query(SEED);
    const schemaBefore = await describeSchema(db.query);
    const historyBefore = await db.query(`select name, status from tributary_migrations order by id`);

    ws.write('migrations/20300101_000000_auth-service_broken.ts', BROKEN);
    const broken = await ws.migrate(['migrate', '--backup'], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/Backed up the database to \.data\/backups\/\d{8}_\d{6}\.sql/);
    expect(broken.stderr).toContain('20300101_000000_auth-service_broken.ts failed at statement 3');
    expect(await db.query(`select * from "user"`)).toEqual([]); // the damage is real
    expect(await db.query(`select to_regclass('scratch') as t`)).toEqual([{ t: 'scratch' }]);

    const [backup] = backupsOf(ws);
    const restored = await ws.migrate(['restore', `.data/backups/${backup}`], env);
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
    const wrong = await ws.migrate(['restore', 'notes.sql'], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('notes.sql is not a pg_dump SQL file');
    const missing = await ws.migrate(['restore', 'nope.sql'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Backup nope.sql does not exist.');
  });
});

describe('backup and restore on PGlite', () => {
  let ws: Workspace;

  beforeAll(() => {
    ws = scratchWorkspace();
  });
  afterAll(() => ws?.dispose());

  it('restores data after a broken migration', async () => {
    expect((await ws.migrate(['migrate'])).code).toBe(0);
    ws.write('migrations/20300101_000000_auth-service_seed.ts', migration([SEED]));
    expect((await ws.migrate(['migrate'])).code).toBe(0);

    ws.write('migrations/20300101_000001_auth-service_broken.ts', BROKEN);
    const broken = await ws.migrate(['migrate', '--backup']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('Backed up the database');
    const [backup] = backupsOf(ws);

    const restored = await ws.migrate(['restore', `.data/backups/${backup}`]);
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
