/**
 * The migrate/rollback/stamp/validate/repair verbs on PostgreSQL through the real CLI: plans
 * respect dependsOn and --to, dry runs change nothing, out-of-order and edited history are
 * refused, rollback refuses to strand a dependent migration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { scratchWorkspace, type Workspace } from './support/workspace.ts';

let ws: Workspace;
let db: TestDatabase;
let env: Record<string, string>;
let auth: string, billing: string, catalog: string;

beforeAll(async () => {
  ws = scratchWorkspace();
  db = await createTestDatabase();
  env = { DATABASE_URL: db.url };
  [auth, billing, catalog] = ws.migrations().map((f) => f.slice(0, -3)) as [string, string, string];
});

afterAll(async () => {
  await db?.drop();
  ws?.dispose();
});

const cli = (...args: string[]) => ws.migrate(args, env);
const applied = async () => (await db.query(`select name from tributary_migrations where status = 'applied' order by id`)).map((r) => r.name);
const tables = async () => (await db.query(`select tablename from pg_tables where schemaname = 'public' order by 1`)).map((r) => r.tablename);

const OLD_AUTH = '20200101_000000_auth-service_backfill';
const oldAuthMigration = `import { Migration } from '@mikro-orm/migrations';
export class Backfill extends Migration {
  static service = 'auth-service';
  override async up(): Promise<void> { this.addSql('create table "legacy_note" ("id" int primary key)'); }
  override async down(): Promise<void> { this.addSql('drop table "legacy_note"'); }
}
`;

describe('migrate, rollback and history on PostgreSQL', () => {
  it('--dry-run prints the SQL and changes nothing', async () => {
    const result = await cli('migrate', '--dry-run');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`-- ${auth}`);
    expect(result.stdout).toContain('create table "user"');
    expect(result.stdout).toContain('Dry run: 3 migrations would be applied');
    expect(await tables()).toEqual([]);
  });

  it('--service applies that service and the pending migrations it depends on', async () => {
    const result = await cli('migrate', '--service', 'billing-service');
    expect(result.code).toBe(0);
    expect(await applied()).toEqual([auth, billing]);
    expect(await tables()).toContain('customer');
    expect(await tables()).not.toContain('product');
  });

  it('showmigrations --json follows the contract shape', async () => {
    const result = await cli('showmigrations', '--json');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toEqual({
      migrations: [
        { name: auth, service: 'auth-service', applied: true, appliedAt: expect.any(String) },
        { name: billing, service: 'billing-service', applied: true, appliedAt: expect.any(String) },
        { name: catalog, service: 'catalog-service', applied: false, appliedAt: null },
      ],
      applied: 2,
      pending: 1,
    });
    const check = await cli('check', '--json');
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout).problems).toEqual([expect.objectContaining({ kind: 'pending', migration: catalog })]);
  });

  it('rollback refuses to revert a migration that a remaining one depends on', async () => {
    const result = await cli('rollback', '--service', 'auth-service');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Cannot roll back ${auth}: applied migration ${billing} (billing-service) depends on it`);
    expect(await applied()).toEqual([auth, billing]);
  });

  it('--to stops after the named migration; rollback --to keeps it applied', async () => {
    expect((await cli('migrate', '--to', catalog)).code).toBe(0);
    expect(await applied()).toEqual([auth, billing, catalog]);
    const result = await cli('rollback', '--to', auth);
    expect(result.code).toBe(0);
    expect(await applied()).toEqual([auth]);
    expect(await tables()).toEqual(['tributary_migrations', 'api_key', 'session', 'user'].sort());
    const already = await cli('migrate', '--to', auth);
    expect(already.code).toBe(0);
    expect(already.stdout).toContain(`No migrations to apply up to ${auth} (\`migrate showmigrations\` lists the pending ones).`);
    const unknown = await cli('migrate', '--to', '20990101_000000_nobody_x');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('--to 20990101_000000_nobody_x: no migration of that name in the stream');
  });

  it('refuses an out-of-order migration unless allowed', async () => {
    expect((await cli('migrate')).code).toBe(0);
    ws.write(`migrations/${OLD_AUTH}.ts`, oldAuthMigration);
    const refused = await cli('migrate');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Out of order: ${OLD_AUTH} is pending but auth-service already has a later migration applied`);
    const check = await cli('check');
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('out of order');
    const allowed = await cli('migrate', '--allow-out-of-order');
    expect(allowed.code).toBe(0);
    expect(await tables()).toContain('legacy_note');
  });

  it('history and current report what was applied', async () => {
    const history = JSON.parse((await cli('history', '--json')).stdout);
    expect(history.migrations.map((m: any) => m.name)).toEqual([auth, billing, catalog, OLD_AUTH]);
    expect(history.migrations[0]).toMatchObject({ service: 'auth-service', appliedBy: 'postgres', status: 'applied' });
    const current = JSON.parse((await cli('current', '--json')).stdout);
    expect(current.current.name).toBe(OLD_AUTH);
  });

  it('an applied file that is edited or deleted stops migrate until repair', async () => {
    ws.edit(`migrations/${OLD_AUTH}.ts`, 'export class', '// reviewed\nexport class');
    const refused = await cli('migrate');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Migration migrations/${OLD_AUTH}.ts was edited after it was applied`);
    expect((await cli('validate')).code).toBe(1);

    ws.remove(`migrations/${catalog}.ts`);
    const validate = await cli('validate');
    expect(validate.code).toBe(1);
    expect(validate.stderr).toContain(`Applied migration ${catalog} (catalog-service) is missing`);

    const repair = await cli('repair');
    expect(repair.code).toBe(0);
    expect(repair.stdout).toContain(`Realigned checksum of ${OLD_AUTH}`);
    expect(repair.stdout).toContain(`Forgot ${catalog}`);
    expect((await cli('validate')).code).toBe(0);
  });

  it('stamp head records pending migrations without running them', async () => {
    await db.query('delete from tributary_migrations');
    const stamped = await cli('stamp', 'head');
    expect(stamped.code).toBe(0);
    expect(stamped.stdout).toContain('Stamped 3 migrations');
    expect(await applied()).toEqual([OLD_AUTH, auth, billing]);
    expect((await cli('migrate')).stdout).toContain('No migrations to apply');
  });
});
