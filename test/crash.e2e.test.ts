/**
 * Crashes: a `migrate` process killed with SIGKILL in the middle of a long migration leaves no
 * trace of it (no table, no history row), its advisory lock dies with its session, and the next
 * `migrate` completes the stream.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { workspaceWithDatabase } from './support/fixture.ts';
import { startMigrate, until } from './support/process.ts';
import { migrationSource as migration } from './support/migrations.ts';

const LONG = '20300101_000001_auth-service_long';
const INDEX = '20300101_000003_auth-service_index_concurrently';

const { ws, db, env } = workspaceWithDatabase({ withStream: false });

const sleeping = async () => (await db.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and query like '%pg_sleep(600)%' and pid <> pg_backend_pid()`))[0].n > 0;
const advisoryLocks = async () => (await db.query(`select count(*)::int as n from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`))[0].n as number;
const sessions = async () => (await db.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`))[0].n as number;

describe('SIGKILL in the middle of a migration', () => {
  it('leaves no trace, releases the lock, and the next run completes the stream', async () => {
    ws.write('migrations/20300101_000000_auth-service_first.ts', migration(['create table "first" ("id" int)']));
    ws.write(`migrations/${LONG}.ts`, migration(['create table "half_done" ("id" int)', 'insert into "half_done" values (1)', 'select pg_sleep(600)']));
    ws.write('migrations/20300101_000002_auth-service_last.ts', migration(['create table "last" ("id" int)']));

    const run = startMigrate(ws, ['migrate'], env);
    await until(sleeping, 'the long migration to start sleeping');
    expect(await advisoryLocks()).toBe(1);
    run.child.kill('SIGKILL');
    expect((await run.exited).signal).toBe('SIGKILL');

    // The server notices the dead client: its sessions end, the transaction rolls back, the lock goes.
    await until(async () => (await sessions()) === 0, 'the dead runner\'s sessions to end');
    expect(await advisoryLocks()).toBe(0);
    expect(await db.query(`select to_regclass('half_done') as t`)).toEqual([{ t: null }]);
    expect(await db.query(`select name, status from tributary_migrations order by name`)).toEqual([{ name: '20300101_000000_auth-service_first', status: 'applied' }]);

    ws.write(`migrations/${LONG}.ts`, migration(['create table "half_done" ("id" int)', 'insert into "half_done" values (1)', 'select pg_sleep(0)']));
    const next = await ws.migrate(['migrate'], env);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toContain('Applied 2 migrations');
    expect((await db.query(`select name from tributary_migrations where status = 'applied' order by name`)).map((r) => r.name)).toEqual([
      '20300101_000000_auth-service_first',
      LONG,
      '20300101_000002_auth-service_last',
    ]);
    expect(await db.query(`select * from "half_done"`)).toEqual([{ id: 1 }]);
  });
});

describe('SIGKILL in the middle of a non-transactional CREATE INDEX CONCURRENTLY', () => {
  it('is recorded as interrupted, the next run names the INVALID index, and repair lets the stream complete', async () => {
    // Waits for the open transaction below for as long as it lasts: only the kill ends it.
    ws.write(`migrations/${INDEX}.ts`, migration(['create index concurrently "last_id_index" on "last" ("id")'], { transactional: false, statics: ["static lockTimeout = '10min';"] }));
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('insert into "last" values (1)');
      const run = startMigrate(ws, ['migrate'], env);
      await until(async () => (await db.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and query like 'create index concurrently%' and wait_event_type = 'Lock'`))[0].n > 0, 'the index build to wait');
      run.child.kill('SIGKILL');
      await run.exited;
      await until(async () => (await sessions()) === 1, "the dead runner's sessions to end"); // the holder's remains
      await holder.query('rollback');
    } finally {
      await holder.end();
    }
    expect(await advisoryLocks()).toBe(0);
    expect(await db.query(`select name, status, error from tributary_migrations where name = $1`, [INDEX])).toEqual([
      { name: INDEX, status: 'failed', error: 'interrupted: the runner stopped before this non-transactional migration finished' },
    ]);

    const next = await ws.migrate(['migrate'], env);
    expect(next.code).toBe(1);
    expect(next.stderr).toContain(`Migration ${INDEX} (auth-service) is non-transactional and was interrupted earlier (the runner stopped before this non-transactional migration finished). Clean up the INVALID index public.last_id_index`);

    await db.query('drop index concurrently "last_id_index"');
    expect((await ws.migrate(['repair'], env)).stdout).toContain(`Cleared failure of ${INDEX}`);
    const done = await ws.migrate(['migrate'], env);
    expect(done.code, done.stderr).toBe(0);
    expect(await db.query(`select indisvalid from pg_index where indexrelid = 'last_id_index'::regclass`)).toEqual([{ indisvalid: true }]);
  });
});
