/**
 * `migrate plan` with the real CLI on the example services, one new migration per service: the
 * order is migrate's own (a dependency first), each statement has its lock, tables and owners, lint
 * findings are attached, markdown is a pull-request comment, a statement that fails is caught by
 * the PGlite replay before the real database sees it, and `--since REV` plans the branch's files.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { workspaceWithDatabase } from './support/fixture.ts';
import { migrationSource as migration } from './support/migrations.ts';

const AUTH = '20300101_000002_auth-service_add_nickname';
const BILLING = '20300101_000001_billing-service_add_paid_at'; // older name, but depends on AUTH
const CATALOG = '20300101_000003_catalog-service_index_name';
const BROKEN = '20300101_000004_auth-service_add_email_again';

const { ws, db, env } = workspaceWithDatabase({ migrated: true });

beforeAll(() => {
  ws.write(`migrations/${AUTH}.ts`, migration(['alter table "user" add column "nickname" varchar(60) null', 'create index "user_nickname_index" on "user" ("nickname")']));
  ws.write(
    `migrations/${BILLING}.ts`,
    migration(['alter table "invoice" add column "paid_at" timestamptz null', 'update "invoice" set "paid_at" = "issued_at" where "status" = \'paid\''], { service: 'billing-service', statics: [`static dependsOn = ['${AUTH}'];`] }),
  );
  ws.write(`migrations/${CATALOG}.ts`, migration(['create index concurrently "product_name_index" on "product" ("name")'], { service: 'catalog-service', transactional: false }));
});

describe('migrate plan against PostgreSQL', () => {
  it("lists the pending migrations in migrate's order, each statement with its locks, tables, owners and lint findings", async () => {
    const result = await ws.migrate(['plan', '--format', 'json'], env);
    expect(result.code, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan.migrations.map((m: any) => m.name)).toEqual([AUTH, BILLING, CATALOG]);
    const dryRun = await ws.migrate(['migrate', '--dry-run'], env);
    expect([...dryRun.stdout.matchAll(/^-- (\S+)$/gm)].map((m) => m[1])).toEqual([AUTH, BILLING, CATALOG]);

    const [auth, billing, catalog] = plan.migrations;
    expect(auth.statements.map((s: any) => [s.kind, s.lock, s.blocks, s.locks])).toEqual([
      ['AlterTableStmt', 'ACCESS EXCLUSIVE', 'reads and writes', [{ table: 'public.user', mode: 'ACCESS EXCLUSIVE', owner: 'auth-service' }]],
      ['IndexStmt', 'SHARE', 'writes', [{ table: 'public.user', mode: 'SHARE', owner: 'auth-service' }]],
    ]);
    expect(auth.lint.map((f: any) => [f.rule, f.severity])).toEqual([['index-not-concurrently', 'warning']]);
    expect(billing.statements.map((s: any) => [s.lock, s.locks.map((l: any) => `${l.table} ${l.owner}`)])).toEqual([
      ['ACCESS EXCLUSIVE', ['public.invoice billing-service']],
      ['ROW EXCLUSIVE', ['public.invoice billing-service']],
    ]);
    expect(catalog).toMatchObject({ transactional: false, lint: [], statements: [{ lock: 'SHARE UPDATE EXCLUSIVE', blocks: 'nothing', locks: [{ table: 'public.product', owner: 'catalog-service' }] }] });
    expect(plan.verification).toEqual({ ok: true, replayedFirst: 3, replayed: 3, failure: null });
    expect(plan.scope).toMatch(/^pending migrations of PostgreSQL 127\.0\.0\.1:5432\//);
  });

  it('prints markdown ready for a pull-request comment: a table per migration', async () => {
    const result = await ws.migrate(['plan', '--format', 'markdown'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('## Migration plan\n\n3 migrations — pending migrations of PostgreSQL');
    expect(result.stdout).toContain('✅ Verified: replayed on an in-memory PGlite copy of the stream (3 earlier migrations first); every statement ran.');
    expect(result.stdout).toContain(`### 2. \`${BILLING}\` — billing-service\n\n| # | Statement | Lock | Blocks | Tables (owner) |\n|---:|---|---|---|---|\n`);
    expect(result.stdout).toContain('| 2 | `create index "user_nickname_index" on "user" ("nickname")` | SHARE | writes | `public.user` (auth-service) |');
    expect(result.stdout).toContain(`### 3. \`${CATALOG}\` — catalog-service (non-transactional)`);
    expect(result.stdout).toContain('- ⚠️ warning `index-not-concurrently`: Creates index "user_nickname_index" on existing table "user" without CONCURRENTLY');
  });

  it('reports a statement that fails in the replay, exit 1, before the real database sees it', async () => {
    ws.write(`migrations/${BROKEN}.ts`, migration(['alter table "user" add column "email" text null']));
    const result = await ws.migrate(['plan'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`Replay FAILED at ${BROKEN}: Migration migrations/${BROKEN}.ts failed at statement 1 (alter table "user" add column "email" text null): column "email" of relation "user" already exists`);
    expect(result.stdout).toContain('nothing was run on a real database.');
    expect(await db.query(`select count(*)::int as n from tributary_migrations`)).toEqual([{ n: 3 }]);
    expect(await db.query(`select column_name from information_schema.columns where table_name = 'user' and column_name = 'nickname'`)).toEqual([]);
    ws.remove(`migrations/${BROKEN}.ts`);
  });

  it("says in text what each statement's lock does to app traffic: a row lock lets reads and writes go on", async () => {
    ws.write(`migrations/${BROKEN}.ts`, migration([`update "user" set "display_name" = 'x' where false`, 'alter table "user" add column "nick" text null']));
    const result = await ws.migrate(['plan'], env);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('ROW EXCLUSIVE on public.user (auth-service) — app reads and writes go on');
    expect(result.stdout).toContain('ACCESS EXCLUSIVE on public.user (auth-service) — blocks app reads and writes');
    ws.remove(`migrations/${BROKEN}.ts`);
  });

  it('shows a statement with a syntax error as written, once, with what the parser says', async () => {
    ws.write(`migrations/${BROKEN}.ts`, migration(['alter tabel "user" add column "email" text null;']));
    const result = await ws.migrate(['plan'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('\n   alter tabel "user" add column "email" text null;\n     SQL syntax error: syntax error at or near "tabel"');
    ws.remove(`migrations/${BROKEN}.ts`);
  });
});

describe('migrate plan --since REV', () => {
  it("plans the branch's new files without a database, after replaying the ones before them", async () => {
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: ws.dir, stdio: 'pipe' });
    ws.write('.gitignore', 'node_modules\n.data\n');
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-qm', 'base');
    const added = '20300102_000000_catalog-service_add_weight';
    ws.write(`migrations/${added}.ts`, migration(['alter table "product" add column "weight" int null'], { service: 'catalog-service' }));
    const result = await ws.migrate(['plan', '--since', 'main', '--json']);
    expect(result.code, result.stdout).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan.scope).toBe('migrations added since main');
    expect(plan.migrations.map((m: any) => m.name)).toEqual([added]);
    expect(plan.verification).toEqual({ ok: true, replayedFirst: 6, replayed: 1, failure: null });
  });
});
