/**
 * Trust in real deployments, on PostgreSQL with the real CLI: the lock is proven before every
 * migration (its session terminated from outside mid-run: nothing applied twice, the runner
 * stops with one sentence), history rows are exact (never overwritten, real durations), a lock
 * timeout is never replayed, session state a migration sets never leaks into the next one, and
 * transaction control inside a transactional migration is refused before anything runs.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrationSource as migration } from './support/migrations.ts';
import { startMigrate, until } from './support/process.ts';
import { workspaceWithDatabase } from './support/fixture.ts';

const { ws, db, env } = workspaceWithDatabase({ withStream: false });

const applied = async () => (await db.query(`select name from tributary_migrations where status = 'applied' order by name`)).map((r) => r.name as string);

/** A migration that logs itself; odd ones run a direct query first (the MikroORM transaction path), even ones only collect SQL (the one-round-trip path). */
function loggingMigration(index: number): [string, string] {
  const n = String(index).padStart(2, '0');
  const name = `20300101_0001${n}_auth-service_slow_${n}`;
  const direct = index % 2 === 1 ? `    await this.execute('select pg_sleep(0.25)');\n` : '';
  const sleep = index % 2 === 0 ? `    this.addSql('select pg_sleep(0.25)');\n` : '';
  return [
    `migrations/${name}.ts`,
    `import { Migration } from '@mikro-orm/migrations';\n\nexport class Slow${n} extends Migration {\n  static service = 'auth-service';\n\n  override async up(): Promise<void> {\n${direct}${sleep}    this.addSql("insert into applied_log (name) values ('${name}')");\n  }\n}\n`,
  ];
}

describe('the migration lock is proven, not assumed', () => {
  it('stops with one sentence when its session is terminated mid-run; a waiting runner finishes; nothing is applied twice', async () => {
    await db.query('create table applied_log (name text not null)');
    for (let i = 1; i <= 50; i++) ws.write(...loggingMigration(i));
    const first = startMigrate(ws, ['migrate'], env);
    await until(async () => (await db.query('select count(*)::int as n from applied_log'))[0].n >= 6, 'the first runner to be under way');
    const second = startMigrate(ws, ['migrate', '--lock-wait', '120'], env);
    await second.waitFor('waiting');
    const [holder] = await db.query(`select pid from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())`);
    await db.query('select pg_terminate_backend($1)', [holder.pid]);

    const [a, b] = await Promise.all([first.exited, second.exited]);
    expect(a.code, a.stderr).toBe(1);
    expect(a.stderr).toMatch(/Lost the migration lock on PostgreSQL .* (before|during) 20300101_0001\d\d_auth-service_slow_\d\d/);
    expect(a.stderr).not.toMatch(/\n\s+at /);
    // The waiting runner takes over. In one narrow case — the lock session died while the first runner's
    // MikroORM transaction (on a pool connection) was committing the same migration — the unique history
    // name stops the second one instead ("already recorded"), and a third run finishes: never twice.
    if (b.code !== 0) {
      expect(b.stderr).toContain('is already recorded as applied');
      expect((await ws.migrate(['migrate'], env)).code).toBe(0);
    }
    const log = await db.query('select name, count(*)::int as n from applied_log group by name');
    expect(log.length).toBe(50);
    expect(log.every((row) => row.n === 1)).toBe(true);
    expect((await applied()).length).toBe(50);
    expect(await db.query('select name from tributary_migrations group by name having count(*) > 1')).toEqual([]);
  });
});

describe('history is exact', () => {
  it('records the real duration when a migration is replayed after a transient failure', async () => {
    await db.query('create sequence flaky');
    // The first attempt (one round trip) fails on the division; the statement-by-statement replay passes.
    ws.write('migrations/20300102_000001_auth-service_flaky.ts', migration(['select pg_sleep(0.4)', "select 1 / (nextval('flaky') - 1)"]));
    const result = await ws.migrate(['migrate'], env);
    expect(result.code, result.stderr).toBe(0);
    const [row] = await db.query(`select execution_ms from tributary_migrations where name = '20300102_000001_auth-service_flaky'`);
    expect(row.execution_ms).toBeGreaterThanOrEqual(400);
  });

  it('refuses to record an applied migration a second time instead of overwriting its row', async () => {
    ws.write('migrations/20300102_000002_auth-service_twice.ts', migration(['create table "twice" ("id" int)']));
    // Another runner's row appears between planning and recording: simulated by an event trigger that writes it first.
    await db.query(`create function sneak() returns event_trigger language plpgsql as $$ begin
      insert into tributary_migrations (name, service, checksum, status) values ('20300102_000002_auth-service_twice', 'auth-service', repeat('0', 64), 'applied') on conflict do nothing; end $$`);
    await db.query('create event trigger sneak on ddl_command_end execute function sneak()');
    const result = await ws.migrate(['migrate'], env);
    await db.query('drop event trigger sneak');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Migration 20300102_000002_auth-service_twice is already recorded as applied');
    // Nothing of this run's attempt stayed (the sneaked row was in its transaction too).
    expect(await db.query(`select to_regclass('twice') as t`)).toEqual([{ t: null }]);
    ws.remove('migrations/20300102_000002_auth-service_twice.ts');
  });
});

describe('the one-round-trip path has no second effects', () => {
  it('never replays a migration that failed on a lock timeout', async () => {
    await db.query('create table busy (id int); create sequence attempts');
    ws.write('migrations/20300103_000001_auth-service_blocked.ts', migration(["select nextval('attempts')", 'alter table busy add column x int']));
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('begin; lock table busy in access share mode');
    const result = await ws.migrate(['migrate', '--lock-timeout', '300ms'], env);
    await holder.query('rollback');
    await holder.end();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/20300103_000001_auth-service_blocked\.ts.*lock/);
    const [{ last_value, is_called }] = await db.query('select last_value, is_called from attempts');
    expect([Number(last_value), is_called]).toEqual([1, true]); // one attempt, one lock request
    const retried = await ws.migrate(['migrate'], env);
    expect(retried.code, retried.stderr).toBe(0);
  });

  it('resets session state a migration sets, so it never reaches the next migration', async () => {
    await db.query('create schema elsewhere');
    ws.write('migrations/20300104_000001_auth-service_sets_path.ts', migration(['set search_path = elsewhere', 'create table "in_elsewhere" ("id" int)']));
    ws.write('migrations/20300104_000002_auth-service_plain.ts', migration(['create table "plain_table" ("id" int)']));
    ws.write('migrations/20300104_000003_auth-service_nontx.ts', migration(['set search_path = elsewhere', 'create table "nontx_table" ("id" int)'], { transactional: false }));
    ws.write('migrations/20300104_000004_auth-service_after_nontx.ts', migration(['create table "after_nontx" ("id" int)']));
    const result = await ws.migrate(['migrate'], env);
    expect(result.code, result.stderr).toBe(0);
    const tables = await db.query(`select table_schema || '.' || table_name as t from information_schema.tables where table_name in ('in_elsewhere', 'plain_table', 'nontx_table', 'after_nontx') order by 1`);
    expect(tables.map((r) => r.t)).toEqual(['elsewhere.in_elsewhere', 'elsewhere.nontx_table', 'public.after_nontx', 'public.plain_table']);
  });
});

describe('transaction control inside a migration', () => {
  it('is refused by migrate before anything runs, naming the file and the statement, and reported by lint', async () => {
    ws.write('migrations/20300105_000001_auth-service_fine.ts', migration(['create table "fine" ("id" int)']));
    ws.write('migrations/20300105_000002_auth-service_commits.ts', migration(['create table "half" ("id" int)', 'commit', 'create table "other_half" ("id" int)']));
    const result = await ws.migrate(['migrate'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/20300105_000002_auth-service_commits\.ts.*transaction-control.*commit/i);
    expect(await applied()).not.toContain('20300105_000001_auth-service_fine'); // refused before anything ran
    const lint = await ws.migrate(['lint', '--json'], env);
    expect(JSON.parse(lint.stdout).findings.map((f: any) => f.rule)).toContain('transaction-control');

    ws.write('migrations/20300105_000002_auth-service_commits.ts', migration(['create index concurrently "fine_id" on "fine" ("id")']));
    const concurrently = await ws.migrate(['migrate'], env);
    expect(concurrently.code).toBe(1);
    expect(concurrently.stderr).toMatch(/20300105_000002_auth-service_commits\.ts.*concurrently-in-transaction/);
    ws.write('migrations/20300105_000002_auth-service_commits.ts', migration(['create index concurrently "fine_id" on "fine" ("id")'], { transactional: false }));
    const fixed = await ws.migrate(['migrate'], env);
    expect(fixed.code, fixed.stderr).toBe(0);
  });
});
