/**
 * Credentials and configuration that reach SQL: a password in DATABASE_URL or
 * MIGRATION_DATABASE_URL never appears in what the CLI prints (results, `--json`, notes, errors,
 * `--verbose`, `migrate config`), URLs shown are masked; a non-PostgreSQL URL is refused in one
 * sentence; a historyTable that is not a plain identifier is refused, naming tributary.config.json,
 * before any SQL runs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { databaseFixture, workspaceWithDatabase } from './support/fixture.ts';
import type { RunResult } from './support/workspace.ts';

const PASSWORD = 'Tr1butary-s3cret';
const { ws, db } = workspaceWithDatabase();
/** The test database with a password in the URL (the server trusts 127.0.0.1 and ignores it). */
let secretUrl: string;

beforeAll(() => {
  secretUrl = db.url.replace('postgres@', `postgres:${PASSWORD}@`);
  expect(secretUrl).toContain(PASSWORD);
});

function expectNoPassword(result: RunResult, what: string): void {
  expect(`${result.stdout}\n${result.stderr}`, what).not.toContain(PASSWORD);
  expect(`${result.stdout}\n${result.stderr}`, what).not.toContain(encodeURIComponent(PASSWORD));
}

function errorLines(result: RunResult): string[] {
  return result.stderr.split('\n').filter((line) => line.startsWith('error:'));
}

describe('passwords are never printed', () => {
  it('migrate config masks both URLs', async () => {
    const result = await ws.migrate(['config'], { DATABASE_URL: secretUrl, MIGRATION_DATABASE_URL: secretUrl });
    expect(result.code).toBe(0);
    expectNoPassword(result, 'migrate config');
    const printed = JSON.parse(result.stdout);
    expect(printed.databaseUrl).toBe(`postgres://postgres:***@127.0.0.1:5432/${db.name}`);
    expect(printed.migrationDatabaseUrl).toBe(`postgres://postgres:***@127.0.0.1:5432/${db.name}`);
  });

  it('not in results, --json, notes or --verbose output of a run that works', async () => {
    const env = { DATABASE_URL: secretUrl, MIGRATION_DATABASE_URL: secretUrl };
    for (const args of [['migrate'], ['showmigrations'], ['showmigrations', '--json'], ['history', '--json'], ['current', '--json'], ['check', '--json'], ['validate'], ['migrate', '--dry-run', '--verbose'], ['rollback', '--dry-run']]) {
      const result = await ws.migrate(args, env);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      expectNoPassword(result, args.join(' '));
    }
  });

  it('not in the errors of a database that cannot be reached or does not exist, with or without --verbose or --json', async () => {
    const unreachable = secretUrl.replace(':5432/', ':1/');
    const missing = secretUrl.replace(/\/[^/]+$/, '/no_such_database_here');
    for (const url of [unreachable, missing]) {
      const shown = url.replace(PASSWORD, '***');
      for (const args of [['migrate'], ['migrate', '--verbose'], ['showmigrations', '--json'], ['check', '--json', '--verbose'], ['history']]) {
        const result = await ws.migrate(args, { DATABASE_URL: url });
        expect(result.code, `${args.join(' ')} on ${shown}`).toBe(1);
        expectNoPassword(result, `${args.join(' ')} on ${shown}`);
      }
      for (const args of [['migrate'], ['rollback', '--verbose']]) {
        const result = await ws.migrate(args, { DATABASE_URL: db.url, MIGRATION_DATABASE_URL: url });
        expect(result.code, `MIGRATION_DATABASE_URL ${args.join(' ')} on ${shown}`).toBe(1);
        expectNoPassword(result, `MIGRATION_DATABASE_URL ${args.join(' ')} on ${shown}`);
      }
    }
  });
});

describe('a URL that is not PostgreSQL', () => {
  it('DATABASE_URL=mysql://… is refused in one sentence, the URL masked, nothing reported as PostgreSQL', async () => {
    const result = await ws.migrate(['showmigrations'], { DATABASE_URL: `mysql://root:${PASSWORD}@127.0.0.1:3306/app` });
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('Using PostgreSQL');
    expect(errorLines(result)).toEqual(['error: DATABASE_URL must be a PostgreSQL URL (postgres://user@host:port/database), not mysql://root:***@127.0.0.1:3306/app: Tributary migrates PostgreSQL only.']);
    expectNoPassword(result, 'mysql DATABASE_URL');
  });

  it('MIGRATION_DATABASE_URL=mysql://… is refused by migrate, naming that variable', async () => {
    const result = await ws.migrate(['migrate'], { DATABASE_URL: db.url, MIGRATION_DATABASE_URL: 'mysql://root@127.0.0.1/app' });
    expect(result.code).toBe(1);
    expect(errorLines(result)).toEqual(['error: MIGRATION_DATABASE_URL must be a PostgreSQL URL (postgres://user@host:port/database), not mysql://root@127.0.0.1/app: Tributary migrates PostgreSQL only.']);
  });
});

describe('config values that reach SQL', () => {
  const fresh = databaseFixture();

  it('a historyTable that is not a plain identifier is refused before any SQL runs, naming tributary.config.json', async () => {
    const db = fresh;
    await db.query('create table y (id int)');
    try {
      for (const historyTable of ['x"; drop table y; --', 'public.x"; drop table y; --', 'bad name', "o'brien"]) {
        ws.write('tributary.config.json', JSON.stringify({ historyTable }));
        const result = await ws.migrate(['migrate'], { DATABASE_URL: db.url });
        expect(result.code, historyTable).toBe(1);
        const errors = errorLines(result);
        expect(errors, result.stderr).toHaveLength(1);
        expect(errors[0]).toContain(`historyTable "${historyTable}" in tributary.config.json must name its schema and table with letters, digits, _ or $`);
        expect(await db.query(`select to_regclass('public.y')::text as t`)).toEqual([{ t: 'y' }]);
      }
      expect(await db.query(`select count(*)::int as n from pg_tables where schemaname not in ('pg_catalog', 'information_schema') and tablename <> 'y'`)).toEqual([{ n: 0 }]);
    } finally {
      ws.remove('tributary.config.json');
      await db.query('drop table y');
    }
  });

  it('a lockTimeout that is not a duration is refused when the config is read, naming tributary.config.json', async () => {
    const db = fresh;
    ws.write('tributary.config.json', JSON.stringify({ lockTimeout: "5s'; drop table y; --" }));
    try {
      const result = await ws.migrate(['rollback'], { DATABASE_URL: db.url });
      expect(result.code).toBe(1);
      expect(errorLines(result)).toEqual([`error: lockTimeout "5s'; drop table y; --" in tributary.config.json is not a duration like 5s, 500ms or 2min.`]);
    } finally {
      ws.remove('tributary.config.json');
    }
  });

  it('a valid schema-qualified historyTable still works', async () => {
    const db = fresh;
    ws.write('tributary.config.json', JSON.stringify({ historyTable: 'ops.migration_history' }));
    try {
      const result = await ws.migrate(['migrate'], { DATABASE_URL: db.url });
      expect(result.code, result.stderr).toBe(0);
      expect(await db.query('select count(*)::int as n from ops.migration_history')).toEqual([{ n: 3 }]);
    } finally {
      ws.remove('tributary.config.json');
    }
  });
});
