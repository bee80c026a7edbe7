/**
 * The Nx integration end to end: a scratch copy of the workspace (the tool's own source
 * included, in a git repository of its own) runs the real `nx` against PostgreSQL — inferred
 * targets, per-service and global makemigrations/migrate/showmigrations, the cached
 * migrate-check (hits, misses, failures, `--db`), `nx affected`, and the service generator.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { scratchWorkspace, type RunResult, type Workspace } from './support/workspace.ts';

let ws: Workspace;
let db: TestDatabase;

beforeAll(async () => {
  ws = scratchWorkspace({ withLibrary: true });
  db = await createTestDatabase();
  ws.write('.gitignore', 'node_modules/\n.nx/\n.data/\n');
  git('init', '-q', '-b', 'main');
  commit('scratch workspace');
});

afterAll(async () => {
  await db?.drop();
  ws?.dispose();
});

function git(...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { cwd: ws.dir, encoding: 'utf8' });
}

function commit(message: string): void {
  git('add', '-A');
  git('commit', '-q', '--allow-empty', '-m', message);
}

const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

interface NxRun extends RunResult {
  output: string;
  /** `project:target` of every task, in the order Nx printed them. */
  tasks: string[];
  /** The tasks Nx answered from its cache (the rest ran). */
  cached: string[];
  /** Whether Nx's summary says the cache was skipped (`--skip-nx-cache`). */
  cacheSkipped: boolean;
}

async function nx(args: string[], env: Record<string, string | undefined> = {}): Promise<NxRun> {
  const result = await ws.nx(args, { DATABASE_URL: db.url, NO_COLOR: undefined, ...env });
  const output = plain(result.stdout + result.stderr);
  const lines = [...output.matchAll(/^> nx run ([\w@/-]+:[\w-]+)(.*)$/gm)];
  // Nx prints the header of a batch of one task twice (when it starts the batch, and with its output).
  const tasks = [...new Set(lines.map((m) => m[1]!))];
  const cached = [...new Set(lines.filter((m) => /\[(existing outputs match the cache|local cache)/.test(m[2]!)).map((m) => m[1]!))].sort();
  return { ...result, output, tasks, cached, cacheSkipped: /Cache:\s+Skipped/.test(output) };
}

async function ok(...args: string[]): Promise<NxRun> {
  const result = await nx([...args, '--output-style=static']);
  if (result.code !== 0) throw new Error(`nx ${args.join(' ')} exited ${result.code}:\n${result.output}`);
  return result;
}

async function project(name: string): Promise<any> {
  const result = await nx(['show', 'project', name, '--json']);
  if (result.code !== 0) throw new Error(`nx show project ${name} failed:\n${result.output}`);
  return JSON.parse(result.stdout);
}

async function tables(): Promise<string[]> {
  return (await db.query(`select tablename from pg_tables where schemaname = 'public' order by 1`)).map((r) => r.tablename);
}

const newFiles = (before: string[]) => ws.migrations().filter((f) => !before.includes(f));
const ALL_CHECKS = ['auth-service:migrate-check', 'billing-service:migrate-check', 'catalog-service:migrate-check'];
const checkAll = () => nx(['run-many', '-t', 'migrate-check', '--output-style=static']);

describe('Nx integration', () => {
  it('infers the five targets for every service and the global ones for the migrations project', async () => {
    const auth = await project('auth-service');
    expect(Object.keys(auth.targets)).toEqual(expect.arrayContaining(['makemigrations', 'migrate', 'migrate-check', 'showmigrations', 'rollback']));
    expect(auth.targets['migrate-check']).toMatchObject({ executor: '@tributary/migrate:check', cache: true });
    expect(auth.targets['migrate-check'].inputs).toEqual(expect.arrayContaining(['{projectRoot}/src/db/models/**/*', '{workspaceRoot}/migrations/????????_??????_auth-service_*.ts', '{workspaceRoot}/migrations/.snapshots/auth-service/*.json', { fileset: '{workspaceRoot}/libs/migrate/src/**/*' }]));
    expect(auth.targets['migrate-check'].inputs).not.toContain('{workspaceRoot}/migrations/**/*');
    expect(auth.targets.migrate.parallelism).toBe(false);
    expect(auth.targets['migrate-check'].parallelism).not.toBe(false);
    // billing's models import auth's User: auth's model files are inputs of billing's check
    const billing = await project('billing-service');
    expect(billing.targets['migrate-check'].inputs).toContain('{workspaceRoot}/apps/auth-service/src/db/models/user.ts');
    // …and so are auth's migrations and shard (billing's tables reference auth's)
    expect(billing.targets['migrate-check'].inputs).toEqual(expect.arrayContaining(['{workspaceRoot}/migrations/????????_??????_auth-service_*.ts', '{workspaceRoot}/migrations/.snapshots/auth-service/*.json']));
    expect((await project('catalog-service')).targets['migrate-check'].inputs.filter((input: unknown) => String(input).includes('auth-service'))).toEqual([]);

    const stream = await project('migrations');
    expect(stream.root).toBe('migrations');
    expect(Object.keys(stream.targets)).toEqual(expect.arrayContaining(['makemigrations', 'migrate', 'showmigrations', 'check']));
    expect(stream.targets.migrate.parallelism).toBe(false);

    const gateway = await project('gateway');
    expect(gateway.targets?.migrate).toBeUndefined();
    const shown = await nx(['show', 'project', 'auth-service']);
    expect(shown.code).toBe(0);
    for (const target of ['makemigrations', 'migrate', 'migrate-check', 'showmigrations', 'rollback']) expect(shown.output).toContain(target);
  });

  it('nx graph shows that billing depends on auth (its models import auth\'s), and no service on the migrations project', async () => {
    const graphed = await nx(['graph', '--file=.graph.json']);
    expect(graphed.code).toBe(0);
    const { dependencies } = JSON.parse(ws.read('.graph.json')).graph;
    ws.remove('.graph.json');
    const on = (project: string) => dependencies[project].map((d: { target: string }) => d.target).sort();
    expect(dependencies['billing-service']).toContainEqual({ source: 'billing-service', target: 'auth-service', type: 'implicit' });
    expect(on('billing-service')).toEqual(['auth-service']);
    expect(on('auth-service')).toEqual([]);
    expect(on('catalog-service')).toEqual([]);
  });

  it('migrates one service, then the whole stream', async () => {
    const auth = await ok('run', 'auth-service:migrate');
    expect(auth.output).toMatch(/Applied 1 migration in/);
    expect(await tables()).toEqual(['api_key', 'session', 'tributary_migrations', 'user']);

    const shown = await ok('run', 'auth-service:showmigrations');
    expect(shown.output).toMatch(/✅ applied \| auth-service +\| 20261123_130022_auth-service_initial/);
    expect(shown.output).not.toContain('billing-service');

    await ok('run', 'migrations:migrate');
    expect(await tables()).toEqual(['api_key', 'category', 'customer', 'invoice', 'invoice_line', 'product', 'session', 'tributary_migrations', 'user']);
    expect((await ok('run', 'migrations:showmigrations')).output).toContain('Summary: 3 applied, 0 pending, 3 total');
  });

  it("makemigrations on a service writes only that service's migration; on migrations, the rest", async () => {
    ws.edit('apps/auth-service/src/db/models/user.ts', 'displayName: p.string().length(120),', 'displayName: p.string().length(120),\n    emailVerified: p.boolean().default(false),');
    ws.edit('apps/catalog-service/src/db/models/category.ts', 'name: p.string().length(120),', 'name: p.string().length(120),\n    position: p.integer().default(0),');
    let before = ws.migrations();
    const made = await ok('run', 'auth-service:makemigrations', '-m', 'add email_verified');
    const [authFile, ...others] = newFiles(before);
    expect(others).toEqual([]);
    expect(authFile).toMatch(/^\d{8}_\d{6}_auth-service_add_email_verified\.ts$/);
    expect(made.output).toContain(`Created migrations/${authFile}`);
    expect(ws.read(`migrations/${authFile}`)).toContain('email_verified');

    before = ws.migrations();
    await ok('run', 'migrations:makemigrations', '-m', 'sync');
    expect(newFiles(before)).toEqual([expect.stringMatching(/^\d{8}_\d{6}_catalog-service_sync\.ts$/)]);

    await ok('run', 'auth-service:migrate');
    const columns = await db.query(`select column_name from information_schema.columns where table_name = 'user' and column_name = 'email_verified'`);
    expect(columns).toHaveLength(1);
    expect(await db.query(`select 1 from information_schema.columns where table_name = 'category' and column_name = 'position'`)).toHaveLength(0);
    await ok('run', 'migrations:migrate');
    commit('email_verified, category position');
  });

  it('migrate-check runs every service in one process and, with nothing changed, comes from the cache', async () => {
    // Every Node process Nx starts logs its script: task workers run bin/run-executor.js, batches run-batch.js.
    const log = ws.path('.processes.log');
    ws.write('.probe.mjs', `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(log)}, process.argv[1] + '\\n');\n`);
    const cold = await nx(['run-many', '-t', 'migrate-check', '--output-style=static'], { NODE_OPTIONS: `--import=${ws.path('.probe.mjs')}` });
    const workers = ws.read('.processes.log').split('\n').filter((script) => /run-executor|run-batch/.test(script));
    ws.remove('.probe.mjs');
    ws.remove('.processes.log');
    expect(cold.code).toBe(0);
    expect(cold.tasks.sort()).toEqual(ALL_CHECKS);
    expect(cold.output.match(/Check passed\./g)).toHaveLength(3);
    expect(cold.cached).toEqual([]);
    expect(workers).toEqual([expect.stringMatching(/run-batch\.js$/)]);
    // Nx's cache answers unchanged checks: the batch remembers no clean check of its own.
    expect(existsSync(ws.path('node_modules/.cache/tributary/clean-check.json'))).toBe(false);

    const warm = await checkAll();
    expect(warm.code).toBe(0);
    expect(warm.cached).toEqual(ALL_CHECKS);
    expect(warm.output).toContain('Nx read the output from the cache instead of running the command for 3 out of 3 tasks');
  });

  it('fails on a model change without a migration, and never caches the failure', async () => {
    const original = ws.read('apps/catalog-service/src/db/models/product.ts');
    ws.edit('apps/catalog-service/src/db/models/product.ts', 'active: p.boolean().default(true),', 'active: p.boolean().default(true),\n    weight: p.integer().nullable(),');
    for (let attempt = 0; attempt < 2; attempt++) {
      const failed = await checkAll();
      expect(failed.code).toBe(1);
      expect(failed.output).toContain('Service catalog-service has model changes without a migration');
      expect(failed.cached).toEqual(['auth-service:migrate-check', 'billing-service:migrate-check']); // catalog ran again: its failure was not cached
    }
    // Outside a batch (one process per task), the same answer
    const discrete = await nx(['run-many', '-t', 'migrate-check', '--batch=false', '--output-style=static']);
    expect(discrete.code).toBe(1);
    expect(discrete.output).toContain('Service catalog-service has model changes without a migration');
    expect(discrete.cached).toEqual(['auth-service:migrate-check', 'billing-service:migrate-check']);
    ws.write('apps/catalog-service/src/db/models/product.ts', original);
    expect((await checkAll()).cached).toEqual(ALL_CHECKS);
  });

  it('a change in a shared entity base file, or in the tool itself, invalidates the cache', async () => {
    // A file outside every service that catalog's models import
    ws.write('libs/shared-models/src/columns.ts', 'export const NAME_LENGTH = 200;\n');
    ws.edit('apps/catalog-service/src/db/models/product.ts', "import { Category } from './category.ts';", "import { Category } from './category.ts';\nimport { NAME_LENGTH } from '../../../../../libs/shared-models/src/columns.ts';");
    ws.edit('apps/catalog-service/src/db/models/product.ts', 'name: p.string().length(200),', 'name: p.string().length(NAME_LENGTH),');
    const catalog = await project('catalog-service');
    expect(catalog.targets['migrate-check'].inputs).toContain('{workspaceRoot}/libs/shared-models/src/columns.ts');
    const same = await checkAll();
    expect(same.code).toBe(0);
    expect(same.cached).toEqual(['auth-service:migrate-check', 'billing-service:migrate-check']); // product.ts changed; its schema did not

    ws.write('libs/shared-models/src/columns.ts', 'export const NAME_LENGTH = 250;\n');
    const changed = await checkAll();
    expect(changed.code).toBe(1);
    expect(changed.output).toContain('Service catalog-service has model changes without a migration');
    expect(changed.cached).toEqual(['auth-service:migrate-check', 'billing-service:migrate-check']);
    ws.write('libs/shared-models/src/columns.ts', 'export const NAME_LENGTH = 200;\n');
    expect((await checkAll()).cached).toEqual(ALL_CHECKS);

    ws.edit('libs/migrate/src/checks/check.ts', /$/, '\n// a change in the tool\n');
    const tool = await checkAll();
    expect(tool.code).toBe(0);
    expect(tool.tasks).toHaveLength(3);
    expect(tool.cached).toEqual([]);
    commit('shared columns');
  });

  it('--db adds the database check and is never answered from the cache', async () => {
    const file = ws.migrations().find((f) => f.includes('catalog-service_sync'))!;
    await ok('run', 'migrations:rollback', '--service', 'catalog-service');
    for (let attempt = 0; attempt < 2; attempt++) {
      const pending = await nx(['run', 'catalog-service:migrate-check', '--db', '--output-style=static']);
      expect(pending.code).toBe(1);
      expect(pending.output).toContain(`Migration ${file.replace(/\.ts$/, '')} (catalog-service) is not applied`);
      expect(pending.cacheSkipped).toBe(true);
      expect(pending.cached).toEqual([]);
    }
    await ok('run', 'catalog-service:migrate');
    const clean = await ok('run', 'catalog-service:migrate-check', '--db');
    expect(clean.output).toContain('Check passed.');
    expect(clean.output).not.toContain('database not checked');
    expect((await ok('run', 'catalog-service:migrate-check')).output).toContain('(offline: database not checked)');
  });

  it('a new migration of auth-service re-runs the checks of auth and billing only: catalog stays a cache hit and is not affected', async () => {
    expect((await checkAll()).code).toBe(0);
    expect((await checkAll()).cached).toEqual(ALL_CHECKS);
    const before = ws.migrations();
    expect((await ws.migrate(['makemigrations', '--empty', '--service', 'auth-service', '-m', 'backfill display names'])).code).toBe(0);
    expect(newFiles(before)).toEqual([expect.stringMatching(/^\d{8}_\d{6}_auth-service_backfill_display_names\.ts$/)]);

    const affected = await nx(['affected', '-t', 'migrate-check', '--base=HEAD', '--output-style=static']);
    expect(affected.code).toBe(0);
    expect(affected.tasks.sort()).toEqual(['auth-service:migrate-check', 'billing-service:migrate-check']);
    expect(affected.cached).toEqual([]);

    const warm = await checkAll();
    expect(warm.code).toBe(0);
    expect(warm.cached).toEqual(ALL_CHECKS); // catalog's hash never moved; auth and billing were cached by the affected run
    commit('auth backfill');

    // A file in migrations/ that is no migration is the stream's problem: migrations:check tells it; service checks stay cached
    ws.write('migrations/add_index.ts', 'export {};\n');
    const stray = await checkAll();
    expect(stray.code).toBe(0);
    expect(stray.cached).toEqual(ALL_CHECKS);
    const whole = await nx(['run', 'migrations:check', '--output-style=static']);
    expect(whole.code).toBe(1);
    expect(whole.output).toContain('migrations/add_index.ts does not follow the <YYYYMMDD>_<HHMMSS>_<service>_<slug>.ts naming');
    ws.remove('migrations/add_index.ts');
  });

  it('nx affected runs the check of the changed service and of the services importing its models', async () => {
    ws.edit('apps/catalog-service/src/db/models/category.ts', 'position: p.integer().default(0),', 'position: p.integer().default(0),\n    icon: p.string().length(40).nullable(),');
    commit('catalog icon');
    const catalog = await nx(['affected', '-t', 'migrate-check', '--base=HEAD~1', '--output-style=static']);
    expect(catalog.tasks).toEqual(['catalog-service:migrate-check']);
    expect(catalog.code).toBe(1); // CI catches the model change that has no migration

    ws.edit('apps/auth-service/src/db/models/session.ts', 'userAgent: p.text().nullable(),', 'userAgent: p.text().nullable(),\n    ip: p.string().length(45).nullable(),');
    commit('session ip');
    const auth = await nx(['affected', '-t', 'migrate-check', '--base=HEAD~1', '--output-style=static']);
    expect(auth.tasks.sort()).toEqual(['auth-service:migrate-check', 'billing-service:migrate-check']);
    expect(auth.output).toContain('Service auth-service has model changes without a migration');
  });

  it('tells a user mistake in one sentence and exits 1', async () => {
    const wrong = await nx(['run', 'auth-service:migrate', '--service', 'billing-service', '--output-style=static']);
    expect(wrong.code).toBe(1);
    expect(wrong.output).toContain('--service billing-service does not apply to project auth-service');
    expect(wrong.output).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('the service generator adds a service with models, targets and its place in the gateway', async () => {
    const generated = await nx(['g', '@tributary/migrate:service', 'orders-service']);
    expect(generated.code).toBe(0);
    expect(ws.read('apps/orders-service/src/db/models/order.ts')).toContain("tableName: 'order'");
    expect(JSON.parse(ws.read('apps/orders-service/package.json'))).toMatchObject({ name: '@tributary/orders-service', nx: { name: 'orders-service' } });
    const registry = ws.read('apps/gateway/src/services.ts');
    expect(registry).toContain("import { service as ordersService } from '@tributary/orders-service/routes';");
    expect(registry).toMatch(/^ {2}ordersService,$/m);
    expect(ws.read('apps/orders-service/src/routes.ts')).toContain("prefix: '/orders'");

    const orders = await project('orders-service');
    expect(Object.keys(orders.targets)).toEqual(expect.arrayContaining(['makemigrations', 'migrate', 'migrate-check', 'showmigrations', 'rollback']));
    const before = ws.migrations();
    await ok('run', 'orders-service:makemigrations', '-m', 'create order');
    expect(newFiles(before)).toEqual([expect.stringMatching(/^\d{8}_\d{6}_orders-service_create_order\.ts$/)]);
    await ok('run', 'orders-service:migrate');
    expect(await tables()).toContain('order');

    const bad = await nx(['g', '@tributary/migrate:service', 'Orders_Service']);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('Service name "Orders_Service" must be lower-case letters, digits and dashes');
    const taken = await nx(['g', '@tributary/migrate:service', 'auth-service']);
    expect(taken.code).toBe(1);
    expect(taken.output).toContain('apps/auth-service already exists');
  });
});
