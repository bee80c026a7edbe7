/**
 * The benchmark's generated workspaces are real Tributary workspaces: makemigrations writes one
 * migration per service with cross-service dependsOn, MikroORM's migrator reads the same
 * entities, the generated model changes become migrations, and the psql baseline applies the
 * same stream with the same history rows as `migrate`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createHistoryTable } from '../tools/bench/database.ts';
import { childEnv } from '../tools/bench/measure.ts';
import { oneStatementStream, psqlScript } from '../tools/bench/streams.ts';
import { applyModelChanges, blankWorkspace, generateWorkspace, REPO, type BenchWorkspace } from '../tools/bench/workspace.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { exec } from './support/workspace.ts';

const shape = { services: 3, entitiesPerService: 5 };
const opened: Array<BenchWorkspace | TestDatabase> = [];
afterAll(async () => {
  for (const item of opened) 'drop' in item ? await item.drop() : item.dispose();
});

function migrate(ws: BenchWorkspace, args: string[], env: Record<string, string> = {}) {
  return exec(process.execPath, [ws.path('node_modules/.bin/migrate'), ...args], { cwd: ws.dir, env: childEnv(env) });
}

describe('benchmark workspaces', () => {
  it('generates services whose models makemigrations and MikroORM both read, with foreign keys across services', async () => {
    const ws = generateWorkspace('test', shape);
    opened.push(ws);
    const initial = await migrate(ws, ['makemigrations', '-m', 'initial']);
    expect(initial.stderr.replace(/^Loading the models of \d+ services…\n/, '')).toBe(''); // that line only when loading took over a second
    expect(initial.code).toBe(0);
    expect(initial.stdout.match(/^Created /gm)).toHaveLength(3);
    expect(initial.stdout).toMatch(/svc-001_initial\.ts: \d+ statements \(depends on \d{8}_\d{6}_svc-000_initial\)/);

    const touched = applyModelChanges(ws, shape, 1);
    const step = await migrate(ws, ['makemigrations', '-m', 'step']);
    expect(step.code).toBe(0);
    expect(step.stdout.match(/^Created /gm)).toHaveLength(1);
    const written = step.stdout.match(/Created (\S+):/)![1]!;
    const code = readFileSync(join(ws.dir, written), 'utf8');
    expect(written).toContain(touched[0]);
    expect(code).toMatch(/alter table "s001_account" add "note1" varchar\(500\) null/);
    expect(code).toMatch(/create table "s001_[a-z_]+"/); // the new entity, with a key into another service
    expect(code).toMatch(/foreign key \("owner_id"\) references "s000_account"/);
    expect(step.stdout).toMatch(/depends on \d{8}_\d{6}_svc-000_initial/);
    expect(code).toMatch(/alter table "s001_[a-z_]+" drop column "description"/);

    const check = await migrate(ws, ['makemigrations', '--check']);
    expect(check.code).toBe(0);

    // As the benchmark runs it: offline, from an (empty) snapshot — the database is never created.
    const offline = `tributary_bench_offline_${process.pid}`;
    mkdirSync(ws.path('.mikro-orm'));
    writeFileSync(ws.path('.mikro-orm', `.snapshot-${offline}.json`), JSON.stringify({ namespaces: ['public'], tables: [], nativeEnums: {} }));
    const mikro = execFileSync(process.execPath, [join(REPO, 'tools/bench/baselines/mikroorm-create.ts'), ws.dir, ws.path('.mikro-orm'), `postgres://postgres@127.0.0.1:5432/${offline}`], { cwd: ws.dir, encoding: 'utf8', env: childEnv() });
    expect(JSON.parse(mikro.trim().split('\n').at(-1)!).statements).toBeGreaterThan(50);
    const admin = await createTestDatabase('bench_admin');
    opened.push(admin);
    expect(await admin.query('select 1 from pg_database where datname = $1', [offline])).toEqual([]);
  });

  it('writes a psql script that records the same history rows as migrate', async () => {
    const ws = blankWorkspace('test-psql');
    opened.push(ws);
    const written = oneStatementStream(ws, 6);
    const script = psqlScript(ws.dir, written);
    const [ours, theirs] = [await createTestDatabase('bench_ours'), await createTestDatabase('bench_psql')];
    opened.push(ours, theirs);

    expect((await migrate(ws, ['migrate'], { DATABASE_URL: ours.url })).code).toBe(0);
    await createHistoryTable(ws.dir, theirs.url); // as the benchmark's template database has it
    execFileSync('psql', ['-X', '-q', '-o', '/dev/null', '-d', theirs.url, '-f', script]);

    const rows = (db: TestDatabase) => db.query(`select "name", "service", "checksum", "status" from tributary_migrations order by "name"`);
    expect(await rows(theirs)).toEqual(await rows(ours));
    expect(await rows(ours)).toHaveLength(6);
    const tables = (db: TestDatabase) => db.query(`select tablename from pg_tables where tablename like 'bench_%' order by 1`);
    expect(await tables(theirs)).toEqual(await tables(ours));
  });
});
