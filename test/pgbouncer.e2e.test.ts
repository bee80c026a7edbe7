/**
 * Migrations behind a real PgBouncer: through session pooling they run as on a direct connection;
 * through transaction or statement pooling (where the session holding the migration lock does not
 * survive between statements) every schema-changing command refuses with one sentence pointing at
 * MIGRATION_DATABASE_URL, which, set to a direct connection, is what those commands and the
 * gateway's AUTO_MIGRATE use while the app and the read-only commands keep DATABASE_URL.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { exited, listening, request, serveGateway, stop } from './support/gateway.ts';
import { startPgBouncer, type PgBouncer } from './support/pgbouncer.ts';
import type { Running } from './support/process.ts';
import { scratchWorkspace, type Workspace } from './support/workspace.ts';

let ws: Workspace;
let session: PgBouncer;
let transaction: PgBouncer;
let statement: PgBouncer;
let stream: string[];
const databases: TestDatabase[] = [];
const started: Running[] = [];

beforeAll(async () => {
  ws = scratchWorkspace();
  stream = ws.migrations().map((f) => f.replace(/\.ts$/, ''));
  [session, transaction, statement] = await Promise.all([startPgBouncer('session'), startPgBouncer('transaction'), startPgBouncer('statement')]);
});

afterEach(async () => {
  for (const running of started.splice(0)) if (running.child.exitCode === null) await stop(running, 'SIGKILL').catch(() => {});
});

afterAll(async () => {
  await Promise.all([session, transaction, statement].map((pooler) => pooler?.stop()));
  for (const db of databases) await db.drop();
  ws?.dispose();
});

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  databases.push(db);
  return db;
}

const applied = async (db: TestDatabase) =>
  (await db.query<{ t: string | null }>(`select to_regclass('public.tributary_migrations')::text as t`))[0]!.t
    ? (await db.query<{ name: string }>('select name from tributary_migrations order by id')).map((r) => r.name)
    : [];

/** The one error line, which must name the pooler and MIGRATION_DATABASE_URL. */
function expectPoolerRefusal(result: { code: number; stderr: string }, pooler: PgBouncer, mode: 'transaction' | 'statement'): void {
  expect(result.code).toBe(1);
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
  expect(errors, result.stderr).toHaveLength(1);
  expect(errors[0]).toContain(`127.0.0.1:${pooler.port}`);
  expect(errors[0]).toContain(`${mode} pooling`);
  expect(errors[0]).toContain('set MIGRATION_DATABASE_URL to a direct connection');
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('migrate behind PgBouncer', () => {
  it('session pooling: migrate, rollback and stamp work through the pooler as on a direct connection', async () => {
    const db = await freshDatabase();
    const env = { DATABASE_URL: session.url(db.name) };
    const migrated = await ws.migrate(['migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stderr).toContain(`Using PostgreSQL 127.0.0.1:${session.port}/${db.name}`);
    expect(await applied(db)).toEqual(stream);
    expect((await ws.migrate(['rollback'], env)).code).toBe(0);
    expect(await applied(db)).toEqual(stream.slice(0, -1));
    expect((await ws.migrate(['stamp', 'head'], env)).code).toBe(0);
    expect(await applied(db)).toEqual(stream);
  });

  it('transaction pooling: migrate, rollback, stamp and repair refuse with one sentence and change nothing', async () => {
    const db = await freshDatabase();
    const pooled = { DATABASE_URL: transaction.url(db.name) };
    expectPoolerRefusal(await ws.migrate(['migrate'], pooled), transaction, 'transaction');
    expect(await db.query(`select to_regclass('public.tributary_migrations') as t`)).toEqual([{ t: null }]);

    expect((await ws.migrate(['migrate'], { DATABASE_URL: db.url })).code).toBe(0);
    expectPoolerRefusal(await ws.migrate(['rollback'], pooled), transaction, 'transaction');
    expectPoolerRefusal(await ws.migrate(['stamp', 'head'], pooled), transaction, 'transaction');
    expectPoolerRefusal(await ws.migrate(['repair'], pooled), transaction, 'transaction');
    expect(await applied(db)).toEqual(stream);

    // Reading through the pooler is fine: showmigrations keeps DATABASE_URL.
    const shown = await ws.migrate(['showmigrations', '--json'], pooled);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ applied: 3, pending: 0 });
  });

  it('statement pooling: refused the same way', async () => {
    const db = await freshDatabase();
    expectPoolerRefusal(await ws.migrate(['migrate'], { DATABASE_URL: statement.url(db.name) }), statement, 'statement');
    expect(await applied(db)).toEqual([]);
  });

  it('MIGRATION_DATABASE_URL (direct) is what migrate, rollback and stamp use while DATABASE_URL stays on the pooler', async () => {
    const db = await freshDatabase();
    const env = { DATABASE_URL: transaction.url(db.name), MIGRATION_DATABASE_URL: db.url };
    const migrated = await ws.migrate(['migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stderr).toContain(`Using PostgreSQL 127.0.0.1:5432/${db.name}`);
    expect(await applied(db)).toEqual(stream);
    expect((await ws.migrate(['rollback'], env)).code).toBe(0);
    expect((await ws.migrate(['stamp', 'head'], env)).code).toBe(0);
    expect(await applied(db)).toEqual(stream);

    const shown = await ws.migrate(['showmigrations'], env);
    expect(shown.code).toBe(0);
    expect(shown.stderr).toContain(`Using PostgreSQL 127.0.0.1:${transaction.port}/${db.name}`);
  });

  it('the gateway behind a transaction pooler: AUTO_MIGRATE is refused until MIGRATION_DATABASE_URL is set, then migrates directly and serves through the pooler', async () => {
    const db = await freshDatabase();
    const pooled = { DATABASE_URL: transaction.url(db.name), AUTO_MIGRATE: 'true' };
    const refused = serveGateway(ws, pooled);
    started.push(refused);
    expectPoolerRefusal(await exited(refused), transaction, 'transaction');
    expect(await applied(db)).toEqual([]);

    const gateway = serveGateway(ws, { ...pooled, MIGRATION_DATABASE_URL: db.url });
    started.push(gateway);
    const url = await listening(gateway);
    expect(gateway.output().stderr).toContain('Applied 3 pending migrations');
    expect(await applied(db)).toEqual(stream);
    expect(await request(`${url}/health`)).toEqual({ status: 200, body: { status: 'ok', migrations: { applied: 3, pending: 0, head: stream[2] } } });
    expect((await stop(gateway)).code).toBe(0);
  });
});
