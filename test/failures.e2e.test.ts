/**
 * Failures, atomic batches, non-transactional migrations and timeouts, on PostgreSQL with the
 * real CLI: a failing migration rolls back alone and is named with its statement; `--atomic` is
 * all or nothing; a failed `CREATE INDEX CONCURRENTLY` is recorded as failed and its INVALID index
 * named; a migration blocked by another session's lock fails fast, and `--lock-retries` recovers.
 */
import { describe, expect, it } from 'vitest';
import { migrationSource as migration } from './support/migrations.ts';
import { busyTable } from './support/table-lock.ts';
import { workspaceFixture, workspaceWithDatabase } from './support/fixture.ts';

const { ws, db, env } = workspaceWithDatabase({ withStream: false });

const applied = async () => (await db.query(`select name from tributary_migrations where status = 'applied' order by name`)).map((r) => r.name as string);
const tableExists = async (name: string) => (await db.query(`select to_regclass($1) is not null as e`, [name]))[0].e as boolean;

describe('a migration failing on its third statement', () => {
  it('keeps the ones before it, rolls itself back entirely, and names the file and the statement', async () => {
    ws.write('migrations/20300101_000001_auth-service_a.ts', migration(['create table "a" ("id" int)']));
    ws.write('migrations/20300101_000002_auth-service_b.ts', migration(['create table "b" ("id" int)']));
    ws.write('migrations/20300101_000003_auth-service_c.ts', migration(['create table "c" ("id" int primary key)', 'insert into "c" values (1)', 'insert into "c" values (1)']));
    ws.write('migrations/20300101_000004_auth-service_d.ts', migration(['create table "d" ("id" int)']));

    const result = await ws.migrate(['migrate'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: Migration migrations/20300101_000003_auth-service_c.ts failed at statement 3 (insert into "c" values (1)): ');
    expect(result.stderr).toContain('duplicate key value violates unique constraint "c_pkey"');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await applied()).toEqual(['20300101_000001_auth-service_a', '20300101_000002_auth-service_b']);
    expect(await db.query(`select count(*)::int as n from tributary_migrations`)).toEqual([{ n: 2 }]); // no failed row either
    expect([await tableExists('a'), await tableExists('b'), await tableExists('c'), await tableExists('d')]).toEqual([true, true, false, false]);

    ws.write('migrations/20300101_000003_auth-service_c.ts', migration(['create table "c" ("id" int primary key)', 'insert into "c" values (1)', 'insert into "c" values (2)']));
    const fixed = await ws.migrate(['migrate'], env);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain('Applied 2 migrations');
  });
});

describe('migrate --atomic', () => {
  it('applies nothing of a batch when one migration fails', async () => {
    ws.write('migrations/20300101_000005_auth-service_e.ts', migration(['create table "e" ("id" int)']));
    ws.write('migrations/20300101_000006_auth-service_f.ts', migration(['create table "f" ("id" int)', 'select 1/0']));
    const result = await ws.migrate(['migrate', '--atomic'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Migration migrations/20300101_000006_auth-service_f.ts failed at statement 2 (select 1/0): division by zero');
    expect(await tableExists('e')).toBe(false);
    expect(await applied()).not.toContain('20300101_000005_auth-service_e');
  });

  it('applies the whole batch when all succeed', async () => {
    ws.write('migrations/20300101_000006_auth-service_f.ts', migration(['create table "f" ("id" int)']));
    const result = await ws.migrate(['migrate', '--atomic'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Applied 2 migrations');
    expect((await applied()).slice(-2)).toEqual(['20300101_000005_auth-service_e', '20300101_000006_auth-service_f']);
  });

  it('refuses a batch holding a non-transactional migration, before running anything', async () => {
    ws.write('migrations/20300101_000007_auth-service_g.ts', migration(['create table "g" ("id" int)']));
    ws.write('migrations/20300101_000008_auth-service_index.ts', migration(['create index concurrently "g_id_index" on "g" ("id")'], { transactional: false }));
    const result = await ws.migrate(['migrate', '--atomic'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'error: Migration migrations/20300101_000008_auth-service_index.ts is non-transactional (static transactional = false), so it cannot run inside an --atomic batch; apply it on its own without --atomic.',
    );
    expect(await tableExists('g')).toBe(false);
  });
});

describe('non-transactional migrations', () => {
  it('run outside any transaction (CREATE INDEX CONCURRENTLY succeeds)', async () => {
    const result = await ws.migrate(['migrate'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(await db.query(`select indisvalid from pg_index where indexrelid = 'g_id_index'::regclass`)).toEqual([{ indisvalid: true }]);
  });

  it('a failure is recorded as failed, never applied, and the next run names the INVALID index to clean up', async () => {
    await db.query(`insert into "g" values (1), (1)`);
    const name = '20300101_000009_auth-service_unique_g';
    ws.write(`migrations/${name}.ts`, migration(['create unique index concurrently "g_id_unique" on "g" ("id")'], { transactional: false }));
    const failed = await ws.migrate(['migrate'], env);
    expect(failed.code).toBe(1);
    // PostgreSQL's DETAIL says which key is duplicated; the sentence ends before the advice starts, the advice is the next run's
    expect(failed.stderr.trim().split('\n').at(-1)).toBe(
      `error: Migration migrations/${name}.ts is non-transactional and failed at statement 1 of 1 (create unique index concurrently "g_id_unique" on "g" ("id")): could not create unique index "g_id_unique" (Key (id)=(1) is duplicated.). No statement before it had run. Clean up the INVALID index public.g_id_unique (DROP INDEX CONCURRENTLY …), then run \`migrate repair\` to clear the failure and migrate again.`,
    );
    expect(await db.query(`select status from tributary_migrations where name = $1`, [name])).toEqual([{ status: 'failed' }]);
    const shown = JSON.parse((await ws.migrate(['showmigrations', '--json'], env)).stdout);
    expect(shown.migrations.find((m: any) => m.name === name)).toMatchObject({ applied: false });

    const next = await ws.migrate(['migrate'], env);
    expect(next.code).toBe(1);
    // the earlier failure once, not nested, and the advice once
    expect(next.stderr).toContain(`Migration ${name} (auth-service) is non-transactional and failed earlier at statement 1 (create unique index concurrently "g_id_unique" on "g" ("id")): could not create unique index "g_id_unique" (Key (id)=(1) is duplicated.). Clean up the INVALID index public.g_id_unique (DROP INDEX CONCURRENTLY …), then run \`migrate repair\` to clear the failure and migrate again.`);
    expect(next.stderr.match(/migrate repair/g)).toHaveLength(1);
    expect((await ws.migrate(['validate'], env)).code).toBe(1);

    await db.query(`drop index concurrently "g_id_unique"`);
    await db.query(`delete from "g"`);
    expect((await ws.migrate(['repair'], env)).code).toBe(0);
    const done = await ws.migrate(['migrate'], env);
    expect(done.code, done.stderr).toBe(0);
    expect(await applied()).toContain(name);
  });
});

describe('the history row of a failure', () => {
  it("keeps PostgreSQL's message as it was, quotes and backslashes included", async () => {
    const name = '20300101_000010_auth-service_odd_message';
    ws.write(`migrations/${name}.ts`, migration([String.raw`do $$ begin raise exception 'it''s C:\temp\x'; end $$`], { transactional: false }));
    const failed = await ws.migrate(['migrate'], env);
    expect(failed.code).toBe(1);
    const [row] = await db.query(`select status, error from tributary_migrations where name = $1`, [name]);
    expect(row.status).toBe('failed');
    expect(row.error).toContain(String.raw`: it's C:\temp\x`);
    ws.remove(`migrations/${name}.ts`);
    await db.query(`delete from tributary_migrations where name = $1`, [name]);
  });

  it('is written after the session is put back, when the migration left it unable to write', async () => {
    const name = '20300101_000011_auth-service_read_only';
    ws.write(`migrations/${name}.ts`, migration(['set default_transaction_read_only = on', 'create table "ro_t" ("id" int)'], { transactional: false }));
    const failed = await ws.migrate(['migrate'], env);
    expect(failed.code).toBe(1);
    const [row] = await db.query(`select status, error from tributary_migrations where name = $1`, [name]);
    expect(row).toMatchObject({ status: 'failed', error: expect.stringContaining('read-only transaction') });
    ws.remove(`migrations/${name}.ts`);
    await db.query(`delete from tributary_migrations where name = $1`, [name]);
  });
});

describe('timeouts', () => {
  const busy = busyTable(db);
  it('a migration blocked by another session fails fast with lock_timeout (--lock-timeout) and a clear message', async () => {
    const name = '20300101_000010_auth-service_alter_busy';
    ws.write(`migrations/${name}.ts`, migration(['alter table "busy" add column "note" text']));
    await busy.hold();
    try {
      const result = await ws.migrate(['migrate', '--lock-timeout', '300ms'], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`Migration migrations/${name}.ts failed at statement 1 (alter table "busy" add column "note" text): canceling statement due to lock timeout`);
      expect(result.stderr).toContain('another session holds a conflicting lock on a table it changes; retry later, or use --lock-retries N or a longer --lock-timeout');
      expect(await applied()).not.toContain(name);
    } finally {
      await busy.release();
    }
  });

  it('a per-file lockTimeout overrides the run default', async () => {
    const name = '20300101_000010_auth-service_alter_busy';
    ws.write(`migrations/${name}.ts`, migration(['alter table "busy" add column "note" text'], { statics: ["static lockTimeout = '200ms';"] }));
    await busy.hold();
    try {
      const result = await ws.migrate(['migrate'], env); // run default is 5s; the file says 200ms
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('canceling statement due to lock timeout');
    } finally {
      await busy.release();
    }
  });

  it('--lock-retries retries after a lock timeout and succeeds once the lock is gone', async () => {
    const name = '20300101_000010_auth-service_alter_busy';
    ws.write(`migrations/${name}.ts`, migration(['alter table "busy" add column "note" text']));
    const result = await busy.migrateThroughOneRetry(ws, env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`${name}: Migration migrations/${name}.ts failed at statement 1`);
    expect(await applied()).toContain(name);
    expect(await db.query(`select column_name from information_schema.columns where table_name = 'busy' order by ordinal_position`)).toEqual([{ column_name: 'id' }, { column_name: 'note' }]);
  });

  it('statement_timeout (--statement-timeout, or static statementTimeout) stops a statement that runs too long', async () => {
    const name = '20300101_000011_auth-service_slow';
    ws.write(`migrations/${name}.ts`, migration(['select pg_sleep(600)']));
    const result = await ws.migrate(['migrate', '--statement-timeout', '300ms'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Migration migrations/${name}.ts failed at statement 1 (select pg_sleep(600)): canceling statement due to statement timeout`);

    ws.write(`migrations/${name}.ts`, migration(['select pg_sleep(600)'], { statics: ["static statementTimeout = '300ms';"] }));
    const perFile = await ws.migrate(['migrate'], env);
    expect(perFile.code).toBe(1);
    expect(perFile.stderr).toContain('canceling statement due to statement timeout');
    ws.remove(`migrations/${name}.ts`);
  });

  it('refuses a timeout that is not a duration, naming the flag', async () => {
    const result = await ws.migrate(['migrate', '--lock-timeout', 'soon'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: --lock-timeout "soon" is not a duration like 5s, 500ms or 2min.');
  });
});

describe('on PGlite (the embedded database)', () => {
  const local = workspaceFixture({ withStream: false });

  const showJson = async () => JSON.parse((await local.migrate(['showmigrations', '--json'])).stdout) as { migrations: Array<{ name: string; applied: boolean }> };

  it('a failing migration rolls back alone; --atomic applies all or nothing', async () => {
    local.write('migrations/20300101_000001_auth-service_a.ts', migration(['create table "a" ("id" int)']));
    local.write('migrations/20300101_000002_auth-service_c.ts', migration(['create table "c" ("id" int primary key)', 'insert into "c" values (1)', 'insert into "c" values (1)']));
    const failed = await local.migrate(['migrate']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('Migration migrations/20300101_000002_auth-service_c.ts failed at statement 3 (insert into "c" values (1)): duplicate key value violates unique constraint "c_pkey"');
    expect((await showJson()).migrations.map((m) => [m.name, m.applied])).toEqual([
      ['20300101_000001_auth-service_a', true],
      ['20300101_000002_auth-service_c', false],
    ]);

    local.write('migrations/20300101_000003_auth-service_d.ts', migration(['create table "d" ("id" int)']));
    const atomic = await local.migrate(['migrate', '--atomic']);
    expect(atomic.code).toBe(1);
    expect((await showJson()).migrations.filter((m) => m.applied)).toHaveLength(1); // d was rolled back with c
    expect(atomic.stderr).toContain('duplicate key value violates unique constraint "c_pkey" (Key (id)=(1) already exists.) The --atomic batch was rolled back as one: this run applied none of its 2 migrations.');

    local.write('migrations/20300101_000002_auth-service_c.ts', migration(['create table "c" ("id" int primary key)', 'insert into "c" values (1)', 'insert into "c" values (2)']));
    const fixed = await local.migrate(['migrate', '--atomic']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain('Applied 2 migrations');
  });

  it('a failed non-transactional migration is recorded as failed and blocks the next run until repaired', async () => {
    const name = '20300101_000004_auth-service_index';
    local.write(`migrations/${name}.ts`, migration(['create index concurrently "d_id_index" on "d" ("id")', 'select no_such_function()'], { transactional: false }));
    const failed = await local.migrate(['migrate']);
    expect(failed.code).toBe(1);
    // once, ending with a full stop: which statement failed of how many, what stayed applied, and what to do
    expect(failed.stderr.trim().split('\n').at(-1)).toBe(
      `error: Migration migrations/${name}.ts is non-transactional and failed at statement 2 of 2 (select no_such_function()): function no_such_function() does not exist. Statement 1 ran and stayed applied (nothing rolls back outside a transaction). Clean up what it left (for example an INVALID index), then run \`migrate repair\` to clear the failure and migrate again.`,
    );
    const next = await local.migrate(['migrate']);
    expect(next.code).toBe(1);
    expect(next.stderr).toContain(`Migration ${name} (auth-service) is non-transactional and failed earlier`);
    expect((await showJson()).migrations.find((m) => m.name === name)).toMatchObject({ applied: false });

    local.write(`migrations/${name}.ts`, migration(['create index concurrently if not exists "d_id_index" on "d" ("id")'], { transactional: false }));
    expect((await local.migrate(['repair'])).code).toBe(0);
    const done = await local.migrate(['migrate']);
    expect(done.code, done.stderr).toBe(0);
  });
});
