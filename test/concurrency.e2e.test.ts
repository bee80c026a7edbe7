/**
 * Concurrent deploys: eight `migrate` processes, eight app replicas booting with the boot check's
 * `autoMigrate`, and eight processes calling the library's `migrate` (as the Nx executors do)
 * start together against one PostgreSQL
 * database holding 50 pending migrations. Every migration is applied exactly once, every process
 * succeeds, and the losers say that another runner held the lock and left nothing to do.
 *
 * The first migration waits until all eight processes are connected, so the race for the lock is
 * real whatever the machine's speed: the winner holds the lock while the seven others try it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from './support/database.ts';
import { databaseFixture, workspaceFixture, workspaceWithDatabase } from './support/fixture.ts';
import { migrationSource } from './support/migrations.ts';
import type { RunResult } from './support/workspace.ts';

const PROCESSES = 8;
const MIGRATIONS = 50;

function migrationFile(index: number): [string, string] {
  const n = String(index).padStart(2, '0');
  const name = `20300101_0000${n}_auth-service_step_${n}`;
  const statements: string[] = [];
  if (index === 1) {
    statements.push('create table "applied_log" ("name" text not null, "by_pid" int not null default pg_backend_pid())');
    // The gate: wait (bounded) until every runner has opened its session. pg_stat_activity is a
    // snapshot taken once per transaction: clear it on each turn to see runners that connect later.
    statements.push(`do $$ begin for i in 1..2400 loop exit when (select count(*) from pg_stat_activity where datname = current_database() and application_name = 'tributary') >= ${PROCESSES}; perform pg_sleep(0.05); perform pg_stat_clear_snapshot(); end loop; end $$`);
  }
  statements.push(`create table "t_${n}" ("id" serial primary key)`);
  statements.push(`insert into "applied_log" ("name") values ('${name}')`);
  const body = statements.map((sql) => `    this.addSql(${JSON.stringify(sql)});`).join('\n');
  return [`migrations/${name}.ts`, `import { Migration } from '@mikro-orm/migrations';\n\nexport class Step${n} extends Migration {\n  static service = 'auth-service';\n\n  override async up(): Promise<void> {\n${body}\n  }\n}\n`];
}

const DEPLOY_SCRIPT = `import { migrate } from '@tributary/migrate';
const result = await migrate({ cwd: process.cwd() });
console.log(JSON.stringify({ applied: result.applied.length, waitedForLock: result.waitedForLock }));
`;

const BOOT_SCRIPT = `import { checkMigrationsOnStartup } from '@tributary/migrate/boot';
const lines = [];
const status = await checkMigrationsOnStartup({ autoMigrate: true, modelChanges: false, log: (line) => lines.push(line) });
console.log(JSON.stringify({ migrated: status.migrated.length, status: status.status, waited: lines.some((line) => line.includes('holds the migration lock')) }));
`;

const ws = workspaceFixture({ withStream: false });
beforeAll(() => {
  for (let i = 1; i <= MIGRATIONS; i++) ws.write(...migrationFile(i));
  ws.write('deploy.ts', DEPLOY_SCRIPT);
  // On a loaded machine eight processes can take a while to start: let the losers outwait the gate.
  ws.write('tributary.config.json', JSON.stringify({ lockWaitSeconds: 300 }));
  ws.write('boot.ts', BOOT_SCRIPT);
});

async function expectAppliedOnce(db: TestDatabase): Promise<void> {
  const [history] = await db.query(`select count(*)::int as rows, count(distinct name)::int as names from tributary_migrations where status = 'applied'`);
  expect(history).toEqual({ rows: MIGRATIONS, names: MIGRATIONS });
  const [log] = await db.query(`select count(*)::int as rows, count(distinct name)::int as names, count(distinct by_pid)::int as sessions from applied_log`);
  expect(log).toEqual({ rows: MIGRATIONS, names: MIGRATIONS, sessions: 1 }); // one runner did everything
  const [tables] = await db.query(`select count(*)::int as n from pg_tables where schemaname = 'public' and tablename like 't\\_%'`);
  expect(tables.n).toBe(MIGRATIONS);
}

/** Starts PROCESSES runs at once against `db`; each must exit 0, and every migration be applied once. */
async function together(db: TestDatabase, run: (env: Record<string, string>) => Promise<RunResult>): Promise<RunResult[]> {
  const results = await Promise.all(Array.from({ length: PROCESSES }, () => run({ DATABASE_URL: db.url })));
  for (const result of results) expect(result.code, result.stderr).toBe(0);
  await expectAppliedOnce(db);
  return results;
}

/** What each script run printed last (one JSON line). */
const reportsOf = (results: RunResult[]) => results.map((r) => JSON.parse(r.stdout.trim().split('\n').at(-1)!));

describe(`${PROCESSES} concurrent deploys of ${MIGRATIONS} pending migrations`, () => {
  const db = databaseFixture();

  it('with the migrate CLI: each migration applied once, all exit 0, the losers say why they did nothing', async () => {
    const results = await together(db, (env) => ws.migrate(['migrate'], env));
    const winners = results.filter((r) => r.stdout.includes(`Applied ${MIGRATIONS} migrations`));
    const losers = results.filter((r) => !winners.includes(r));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(PROCESSES - 1);
    for (const loser of losers) {
      expect(loser.stderr).toContain('Another runner holds the migration lock; waiting for it');
      expect(loser.stdout).toContain('Another runner applied the pending migrations; nothing left to do.');
    }
  });

  it('a later deploy finds nothing to do and changes nothing', async () => {
    const result = await ws.migrate(['migrate'], { DATABASE_URL: db.url });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('No migrations to apply.');
    await expectAppliedOnce(db);
  });
});

describe(`${PROCESSES} processes calling the library's migrate() (as the Nx executors do)`, () => {
  const db = databaseFixture();

  it('applies each migration once; one process applies, the others waited and found nothing left', async () => {
    const reports = reportsOf(await together(db, (env) => ws.run(process.execPath, ['deploy.ts'], env)));
    expect(reports.filter((r) => r.applied === MIGRATIONS)).toHaveLength(1);
    expect(reports.filter((r) => r.applied === 0 && r.waitedForLock)).toHaveLength(PROCESSES - 1);
  });
});

describe(`${PROCESSES} app replicas booting with checkMigrationsOnStartup({ autoMigrate: true })`, () => {
  const db = databaseFixture();

  it('applies each migration once; every replica starts at the head; the others waited for the lock', async () => {
    const reports = reportsOf(await together(db, (env) => ws.run(process.execPath, ['boot.ts'], env)));
    for (const report of reports) expect(report.status).toBe('ok');
    expect(reports.filter((r) => r.migrated === MIGRATIONS)).toHaveLength(1);
    expect(reports.filter((r) => r.migrated === 0 && r.waited)).toHaveLength(PROCESSES - 1);
  });
});

describe('concurrent deploys of a stream with CREATE INDEX CONCURRENTLY', () => {
  const { ws: cic, db, env } = workspaceWithDatabase({ withStream: false });
  beforeAll(() => {
    const source = (statements: string[], transactional: boolean) => migrationSource(statements, { transactional });
    cic.write('migrations/20300101_000001_auth-service_table.ts', source(['create table "big" ("id" int)', 'insert into "big" select generate_series(1, 200000)'], true));
    cic.write('migrations/20300101_000002_auth-service_index.ts', source(['create index concurrently "big_id_index" on "big" ("id")'], false));
    cic.write('migrations/20300101_000003_auth-service_after.ts', source(['create table "after_index" ("id" int)'], true));
  });

  it('never deadlocks with the runners waiting for the lock: all exit 0, the index is valid', async () => {
    const results = await Promise.all(Array.from({ length: 4 }, () => cic.migrate(['migrate'], env)));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    expect(results.filter((r) => r.stdout.includes('Applied 3 migrations'))).toHaveLength(1);
    expect(await db.query(`select indisvalid from pg_index where indexrelid = 'big_id_index'::regclass`)).toEqual([{ indisvalid: true }]);
    expect(await db.query(`select count(*)::int as n from tributary_migrations where status = 'applied'`)).toEqual([{ n: 3 }]);
  });
});
