/**
 * The bad-input matrix of docs/RELIABILITY.md: every row drives the real CLI in a scratch
 * workspace with one mistake and asserts exit code 1 and one clear sentence on stderr that names
 * the file, service or migration — no stack trace, and nothing half-applied.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lockKey } from '../libs/migrate/src/db/lock.ts';
import { migrationSource as migration } from './support/migrations.ts';
import { startMigrate, until } from './support/process.ts';
import { exec, REPO, type RunResult } from './support/workspace.ts';
import { workspaceWithDatabase } from './support/fixture.ts';

const { ws, db, env } = workspaceWithDatabase();

const AUTH_INITIAL = '20261123_130022_auth-service_initial';
const PENDING = 'migrations/20300101_000000_auth-service_bad.ts';

afterEach(async () => {
  // every case starts from the committed stream, applied or not
  ws.remove(PENDING);
  if (await historyExists()) await db.query(`delete from tributary_migrations where name like '2030%' or name like '2020%'`);
});

const historyExists = async () => (await db.query(`select to_regclass('tributary_migrations') is not null as e`))[0].e as boolean;

/** Exit 1, the sentence on stderr, no stack trace, a few lines at most. */
function expectUserError(result: RunResult, sentence: string | RegExp): void {
  expect(result.code, `${result.stderr}${result.stdout}`).toBe(1);
  if (typeof sentence === 'string') expect(result.stderr).toContain(sentence);
  else expect(result.stderr).toMatch(sentence);
  expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(result.stderr).not.toContain('--verbose for details'); // only unexpected errors say that
  expect(result.stderr.trim().split('\n').length).toBeLessThanOrEqual(4);
}

const applied = async () => (await db.query(`select name from tributary_migrations where status = 'applied' order by name`)).map((r) => r.name as string);

describe('bad input: workspace and configuration', () => {
  it('no workspace at all', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tributary-empty-'));
    try {
      const result = await exec(process.execPath, [join(REPO, 'node_modules/.bin/migrate'), 'showmigrations'], { cwd: empty, env: { ...process.env, DATABASE_URL: db.url } });
      expectUserError(result, `error: No workspace found from ${empty}: expected nx.json, tributary.config.json or package.json in it or a parent folder.`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('tributary.config.json that is not JSON', async () => {
    ws.write('tributary.config.json', '{ "lockTimeout": ');
    try {
      expectUserError(await ws.migrate(['migrate'], env), /error: .*tributary\.config\.json is not valid JSON/);
    } finally {
      ws.remove('tributary.config.json');
    }
  });

  it('tributary.config.json with a setting of the wrong type', async () => {
    ws.write('tributary.config.json', JSON.stringify({ lockWaitSeconds: 'ten' }));
    try {
      expectUserError(await ws.migrate(['migrate'], env), 'error: lockWaitSeconds in tributary.config.json must be a whole number of at least 0 (got "ten").');
      ws.write('tributary.config.json', JSON.stringify({ lockTimout: '10s' }));
      expectUserError(await ws.migrate(['migrate'], env), 'error: Unknown setting "lockTimout" in tributary.config.json (known: ');
    } finally {
      ws.remove('tributary.config.json');
    }
  });

  it('DATABASE_URL that is not a URL', async () => {
    expectUserError(await ws.migrate(['migrate'], { DATABASE_URL: 'not a url' }), 'error: DATABASE_URL is not a valid URL (expected postgres://user@host:port/database).');
  });

  it('DATABASE_URL naming a database that does not exist', async () => {
    expectUserError(await ws.migrate(['migrate'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/tributary_no_such_db' }), 'error: Cannot connect to PostgreSQL 127.0.0.1:5432/tributary_no_such_db: database "tributary_no_such_db" does not exist');
  });

  it('DATABASE_URL pointing at a server that is down', async () => {
    expectUserError(await ws.migrate(['migrate'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/app' }), /error: Cannot connect to PostgreSQL 127\.0\.0\.1:1\/app: .*ECONNREFUSED/);
  });

  it('unknown service', async () => {
    expectUserError(await ws.migrate(['migrate', '--service', 'payments-service'], env), 'error: Unknown service "payments-service" (services in this workspace: auth-service, billing-service, catalog-service).');
  });

  it('unknown command and unknown option', async () => {
    expectUserError(await ws.migrate(['migrat'], env), /error: unknown command 'migrat'/);
    expectUserError(await ws.migrate(['migrate', '--atomik'], env), /error: unknown option '--atomik'/);
  });
});

describe('bad input: flags', () => {
  beforeAll(async () => {
    expect((await ws.migrate(['migrate'], env)).code).toBe(0);
  });

  it('unknown --to', async () => {
    expectUserError(await ws.migrate(['migrate', '--to', '20261123_999999_auth-service_nope'], env), 'error: --to 20261123_999999_auth-service_nope: no migration of that name in the stream.');
  });

  it('rollback -s 0 and -s -1', async () => {
    expectUserError(await ws.migrate(['rollback', '-s', '0'], env), /-s needs a whole number of at least 1/);
    expectUserError(await ws.migrate(['rollback', '-s', '-1'], env), /-s needs a whole number of at least 1/);
    expect(await applied()).toHaveLength(3);
  });

  it('rollback --to a migration that is not in the stream, or not applied', async () => {
    expectUserError(await ws.migrate(['rollback', '--to', '20261123_999999_auth-service_nope'], env), 'error: rollback --to 20261123_999999_auth-service_nope: no migration of that name in the stream.');
    ws.write(PENDING, migration(['select 1']));
    expectUserError(await ws.migrate(['rollback', '--to', '20300101_000000_auth-service_bad'], env), 'error: rollback --to 20300101_000000_auth-service_bad: that migration is in the stream but not applied; name an applied one (`migrate showmigrations` lists them).');
    expect(await applied()).toHaveLength(3);
  });

  it('--lock-wait that is not a whole number, a timeout that is not a duration', async () => {
    expectUserError(await ws.migrate(['migrate', '--lock-wait', 'soon'], env), /--lock-wait needs a whole number of at least 0/);
    expectUserError(await ws.migrate(['migrate', '--statement-timeout', '5 parsecs'], env), 'error: --statement-timeout "5 parsecs" is not a duration like 5s, 500ms or 2min.');
  });

  it('stamp of an unknown migration', async () => {
    expectUserError(await ws.migrate(['stamp', '20300101_000000_auth-service_nope'], env), 'error: stamp 20300101_000000_auth-service_nope: no migration of that name in the stream.');
  });

  it('restore of a file that does not exist', async () => {
    expectUserError(await ws.migrate(['restore', '--yes', '.data/backups/nope.sql'], env), 'error: Backup .data/backups/nope.sql does not exist.');
  });

  it('makemigrations --empty without --service', async () => {
    expectUserError(await ws.migrate(['makemigrations', '--empty', '-m', 'backfill'], env), 'error: makemigrations --empty writes a data migration for one service: name it with --service.');
  });
});

describe('bad input: migration files', () => {
  it('a file without a class', async () => {
    ws.write(PENDING, 'export const nothing = 1;\n');
    expectUserError(await ws.migrate(['migrate'], env), `error: Migration ${PENDING} must export exactly one class extending Migration from @mikro-orm/migrations (found 0).`);
  });

  it('a class without up()', async () => {
    ws.write(PENDING, `import { Migration } from '@mikro-orm/migrations';\nexport class NoUp extends Migration {\n  static service = 'auth-service';\n}\n`);
    expectUserError(await ws.migrate(['migrate'], env), `error: Migration ${PENDING}: class NoUp has no up() method.`);
  });

  it('a malformed file (TypeScript that does not parse)', async () => {
    ws.write(PENDING, `import { Migration } from '@mikro-orm/migrations';\nexport class Broken extends Migration {\n  override async up(): Promise<void> {\n    this.addSql('select 1'\n  }\n}\n`);
    expectUserError(await ws.migrate(['migrate'], env), new RegExp(`error: Migration ${PENDING}:5:3 failed to load: `));
  });

  it('a file that throws when imported', async () => {
    ws.write(PENDING, `throw new Error('boom at import');\n`);
    expectUserError(await ws.migrate(['migrate'], env), `error: Migration ${PENDING}:1:7 failed to load: boom at import`);
  });

  it('a static service that disagrees with the file name', async () => {
    ws.write(PENDING, migration(['select 1'], { service: 'billing-service' }));
    expectUserError(await ws.migrate(['migrate'], env), `error: Migration ${PENDING} declares service "billing-service" but its file name says "auth-service".`);
  });

  it('an SQL syntax error', async () => {
    ws.write(PENDING, migration(['create table "ok" ("id" int)', 'creat table "oops" ("id" int)']));
    // migrate lints its plan first: the file is refused before any statement of it runs.
    expectUserError(await ws.migrate(['migrate'], env), `error: Migration ${PENDING} was refused before anything ran: [syntax-error] SQL syntax error: syntax error at or near "creat".`);
    expect(await db.query(`select to_regclass('ok') as t`)).toEqual([{ t: null }]); // statement 1 never ran
  });

  it('dependsOn naming a migration that does not exist', async () => {
    ws.write(PENDING, migration(['select 1'], { statics: ["static dependsOn = ['20300101_000000_billing-service_ghost'];"] }));
    expectUserError(await ws.migrate(['migrate'], env), `error: Migration ${PENDING} depends on 20300101_000000_billing-service_ghost, which is not in the stream.`);
  });

  it('a cycle in dependsOn', async () => {
    const other = 'migrations/20300101_000001_billing-service_bad.ts';
    ws.write(PENDING, migration(['select 1'], { statics: ["static dependsOn = ['20300101_000001_billing-service_bad'];"] }));
    ws.write(other, migration(['select 1'], { service: 'billing-service', statics: ["static dependsOn = ['20300101_000000_auth-service_bad'];"] }));
    try {
      expectUserError(await ws.migrate(['migrate'], env), /error: The stream has a dependsOn cycle: 20300101_00000\d_\S+ → 20300101_00000\d_\S+ → 20300101_00000\d_\S+\./);
    } finally {
      ws.remove(other);
    }
  });

  it('the same migration twice under two names (a copy after a merge)', async () => {
    const copy = 'migrations/20300101_000001_auth-service_bad_copy.ts';
    ws.write(PENDING, migration(['create table "twice" ("id" int)']));
    ws.write(copy, migration(['create table "twice" ("id" int)']));
    try {
      expectUserError(await ws.migrate(['migrate'], env), 'error: Migrations 20300101_000000_auth-service_bad and 20300101_000001_auth-service_bad_copy are identical files (same checksum); one is a copy — delete it.');
      expect(await applied()).toHaveLength(3);
    } finally {
      ws.remove(copy);
    }
  });

  it('an out-of-order migration', async () => {
    ws.write('migrations/20200101_000000_auth-service_late.ts', migration(['select 1']));
    try {
      expectUserError(await ws.migrate(['migrate'], env), 'error: Out of order: 20200101_000000_auth-service_late is pending but auth-service already has a later migration applied; review the order, then rerun with --allow-out-of-order.');
    } finally {
      ws.remove('migrations/20200101_000000_auth-service_late.ts');
    }
  });

  it('an applied file that was edited', async () => {
    const file = `migrations/${AUTH_INITIAL}.ts`;
    const original = ws.read(file);
    ws.write(file, `${original}// a comment\n`);
    try {
      expectUserError(await ws.migrate(['migrate'], env), `error: Migration ${file} was edited after it was applied (checksum mismatch); restore it, or run \`migrate repair\` if the edit is intended.`);
    } finally {
      ws.write(file, original);
    }
  });

  it('an applied file that was deleted', async () => {
    const file = `migrations/${AUTH_INITIAL}.ts`;
    const original = ws.read(file);
    ws.remove(file);
    try {
      expectUserError(await ws.migrate(['migrate'], env), `error: Applied migration ${AUTH_INITIAL} (auth-service) is missing from migrations/; restore the file, or run \`migrate repair\` to forget it.`);
    } finally {
      ws.write(file, original);
    }
  });

  it('rollback of an irreversible migration', async () => {
    ws.write(PENDING, migration(['create table "kept" ("id" int)'], { statics: ['static irreversible = true;'] }));
    expect((await ws.migrate(['migrate'], env)).code).toBe(0);
    expectUserError(await ws.migrate(['rollback'], env), `error: Migration ${PENDING} declares static irreversible = true (PostgreSQL cannot undo its change), so it cannot be rolled back; undo it with a new migration, or restore a backup.`);
    await db.query(`delete from tributary_migrations where name = '20300101_000000_auth-service_bad'`);
    await db.query(`drop table "kept"`);
  });
});

describe('bad input: models', () => {
  it('two services mapping one table', async () => {
    const file = 'apps/catalog-service/src/db/models/account.ts';
    ws.write(file, `import { defineEntity, p } from '@mikro-orm/core';\n\nexport const Account = defineEntity({\n  name: 'Account',\n  tableName: 'user',\n  properties: { id: p.integer().primary() },\n});\n`);
    try {
      expectUserError(await ws.migrate(['makemigrations', '-m', 'x'], env), /error: Table "(public\.)?user" is mapped by two services: auth-service \(apps\/auth-service\/src\/db\/models\/user\.ts\) and catalog-service \(apps\/catalog-service\/src\/db\/models\/account\.ts\)/);
    } finally {
      ws.remove(file);
    }
  });

  it('an entity file that fails to load', async () => {
    const file = 'apps/catalog-service/src/db/models/broken.ts';
    ws.write(file, `throw new Error('cannot load this model');\n`);
    try {
      expectUserError(await ws.migrate(['makemigrations', '-m', 'x'], env), `error: Service catalog-service: model file ${file}:1:7 failed to load: cannot load this model`);
    } finally {
      ws.remove(file);
    }
  });

  it('a read-only migrations folder', async () => {
    const folder = ws.path('migrations');
    const asRoot = process.getuid?.() === 0;
    // root ignores permission bits: make the folder immutable instead
    execFileSync(asRoot ? 'chattr' : 'chmod', asRoot ? ['+i', folder] : ['a-w', folder]);
    ws.edit('apps/auth-service/src/db/models/user.ts', 'displayName: p.string().length(120),', 'displayName: p.string().length(120),\n    nickname: p.string().length(40).nullable(),');
    try {
      expectUserError(await ws.migrate(['makemigrations', '-m', 'add nickname'], env), /error: Cannot write to migrations: /);
    } finally {
      execFileSync(asRoot ? 'chattr' : 'chmod', asRoot ? ['-i', folder] : ['u+w', folder]);
      ws.edit('apps/auth-service/src/db/models/user.ts', '\n    nickname: p.string().length(40).nullable(),', '');
    }
    expect(ws.migrations().filter((f) => f.includes('nickname'))).toEqual([]);
  });
});

describe('bad input: the database during a run', () => {
  it('another runner holds the lock longer than --lock-wait', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query(`select pg_advisory_lock(${lockKey('public.tributary_migrations')})`);
      expectUserError(await ws.migrate(['migrate', '--lock-wait', '1'], env), /error: Another migration runner has held the migration lock on PostgreSQL 127\.0\.0\.1:5432\/\S+ for more than 1s; try again later or raise --lock-wait\./);
    } finally {
      await holder.end();
    }
  });

  it('the database goes down in the middle of a migration', async () => {
    ws.write(PENDING, migration(['create table "interrupted" ("id" int)', 'select pg_sleep(600)']));
    const run = startMigrate(ws, ['migrate'], env);
    await until(async () => (await db.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and query like '%pg_sleep(600)%' and pid <> pg_backend_pid()`))[0].n > 0, 'the migration to be running');
    // What a server restart or a failover does to every session of the runner:
    await db.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`);
    const result = await run.exited;
    expectUserError(result, /error: (Migration migrations\/20300101_000000_auth-service_bad\.ts failed( at statement 2 \(select pg_sleep\(600\)\))?: terminating connection due to administrator command|The connection to PostgreSQL \S+ was lost|Lost the migration lock on PostgreSQL \S+ \(its session ended: terminating connection due to administrator command\) during 20300101_000000_auth-service_bad)/);
    expect(await db.query(`select to_regclass('interrupted') as t`)).toEqual([{ t: null }]);
    expect(await applied()).not.toContain('20300101_000000_auth-service_bad');
    ws.write(PENDING, migration(['create table "interrupted" ("id" int)']));
    const next = await ws.migrate(['migrate'], env);
    expect(next.code, next.stderr).toBe(0);
    await db.query(`delete from tributary_migrations where name = '20300101_000000_auth-service_bad'`);
    await db.query(`drop table "interrupted"`);
  });
});
