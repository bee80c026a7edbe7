/**
 * The package as users get it: `nx run migrate:build` emits JavaScript and declarations with
 * JavaScript entry points, `npm pack` packs it, and a fresh Nx workspace with one service
 * installs the tarball, registers the plugin (the README's steps) and runs
 * `nx run <service>:makemigrations` and `:migrate` against PostgreSQL.
 */
import { cpSync, existsSync, globSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { exec, REPO, scratchWorkspace, type RunResult, type Workspace } from './support/workspace.ts';

let ws: Workspace;
let db: TestDatabase;
let tmp: string;
let shop: string;
let dist: string;

beforeAll(async () => {
  ws = scratchWorkspace({ withLibrary: true, apps: ['auth-service'] });
  cpSync(join(REPO, 'tools/publish'), ws.path('tools/publish'), { recursive: true });
  db = await createTestDatabase();
  tmp = mkdtempSync(join(tmpdir(), 'tributary-publish-'));
  shop = join(tmp, 'shop');
  dist = ws.path('dist/libs/migrate');
});

afterAll(async () => {
  await db?.drop();
  ws?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The runner's environment without what would point npm, Nx or the CLI back at this repository. */
function isolatedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|NODE_OPTIONS$|DATABASE_URL$|INIT_CWD$|NX_)/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, CI: 'true', NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0', ...extra };
}

async function run(cwd: string, command: string, args: string[], extra: Record<string, string> = {}): Promise<RunResult & { output: string }> {
  const result = await exec(command, args, { cwd, env: isolatedEnv(extra) });
  return { ...result, output: result.stdout + result.stderr };
}

async function shopNx(...args: string[]) {
  const pkg = JSON.parse(readFileSync(join(shop, 'node_modules/nx/package.json'), 'utf8'));
  const result = await run(shop, process.execPath, [join(shop, 'node_modules/nx', pkg.bin.nx), ...args], { DATABASE_URL: db.url });
  if (result.code !== 0) throw new Error(`nx ${args.join(' ')} exited ${result.code}:\n${result.output}`);
  return result;
}

function write(file: string, content: string): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, content);
}

describe('the published package', () => {
  it('nx run migrate:build emits JavaScript, declarations and JavaScript entry points', async () => {
    const built = await ws.nx(['run', 'migrate:build', '--output-style=static']);
    expect(built.code, built.stdout + built.stderr).toBe(0);

    const pkg = JSON.parse(readFileSync(join(dist, 'package.json'), 'utf8'));
    expect(pkg.main).toBe('./src/index.js');
    expect(pkg.exports['.']).toEqual({ types: './src/index.d.ts', default: './src/index.js' });
    expect(pkg.exports['./plugin']).toEqual({ types: './src/nx/plugin.d.ts', default: './src/nx/plugin.js' });
    for (const target of [pkg.main, pkg.exports['./boot'].default, pkg.exports['./plugin'].default, pkg.bin.migrate]) expect(existsSync(join(dist, target)), target).toBe(true);
    const bin = readFileSync(join(dist, pkg.bin.migrate), 'utf8');
    expect(bin).toContain("'../src/cli/main.js'");
    expect(bin).not.toContain('main.ts');

    // Nothing that Node would have to strip types from inside node_modules
    expect(globSync('**/*.{ts,mts}', { cwd: dist }).filter((file) => !file.endsWith('.d.ts'))).toEqual([]);
    expect(readFileSync(join(dist, 'src/api.d.ts'), 'utf8')).not.toMatch(/from '\.{1,2}\/[^']+\.ts'/);
    for (const manifest of ['executors.json', 'generators.json']) {
      const entries = Object.values<any>(JSON.parse(readFileSync(join(dist, manifest), 'utf8'))[manifest.replace('.json', '')]);
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) {
        const code = entry.implementation ?? entry.factory;
        expect(code).toMatch(/\.js$/);
        expect(existsSync(join(dist, code)), code).toBe(true);
        expect(existsSync(join(dist, entry.schema)), entry.schema).toBe(true);
      }
    }
  });

  it('installs from its tarball into a fresh Nx workspace whose service then makes and applies migrations', async () => {
    const packed = await run(tmp, 'npm', ['pack', dist, '--pack-destination', tmp, '--json']);
    expect(packed.code, packed.output).toBe(0);
    const tarball = join(tmp, JSON.parse(packed.stdout)[0].filename);

    // The README's steps for an existing Nx workspace
    write(join(shop, 'package.json'), JSON.stringify({ name: '@acme/shop', version: '0.0.0', private: true, type: 'module', workspaces: ['apps/*'] }, null, 2));
    write(join(shop, 'nx.json'), JSON.stringify({ neverConnectToCloud: true, analytics: false, tui: { enabled: false } }, null, 2));
    write(join(shop, 'apps/shop-service/package.json'), JSON.stringify({ name: '@acme/shop-service', version: '0.0.0', private: true, type: 'module', nx: { name: 'shop-service' } }, null, 2));
    write(
      join(shop, 'apps/shop-service/src/db/models/item.ts'),
      `import { defineEntity, p } from '@mikro-orm/core';

export const Item = defineEntity({
  name: 'Item',
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(200),
  },
});
`,
    );
    const nxVersion = JSON.parse(readFileSync(join(REPO, 'node_modules/nx/package.json'), 'utf8')).version;
    const installed = await run(shop, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--save-dev', '--save-exact', `nx@${nxVersion}`, tarball]);
    expect(installed.code, installed.output).toBe(0);
    expect(JSON.parse(readFileSync(join(shop, 'node_modules/@tributary/migrate/package.json'), 'utf8')).main).toBe('./src/index.js');

    const initialised = await shopNx('g', '@tributary/migrate:init');
    expect(initialised.output).toContain('Registered @tributary/migrate/plugin in nx.json');
    expect(JSON.parse(readFileSync(join(shop, 'nx.json'), 'utf8')).plugins).toEqual(['@tributary/migrate/plugin']);
    expect(readFileSync(join(shop, '.env'), 'utf8')).toMatch(/^NX_ISOLATE_PLUGINS=false$/m);

    // From here on Nx loads the installed plugin in its own process (.env)
    const project = JSON.parse((await shopNx('show', 'project', 'shop-service', '--json')).stdout);
    expect(Object.keys(project.targets)).toEqual(expect.arrayContaining(['makemigrations', 'migrate', 'migrate-check', 'showmigrations', 'rollback']));
    expect(project.targets['migrate-check'].inputs).toContainEqual({ externalDependencies: ['@tributary/migrate'] });

    const made = await shopNx('run', 'shop-service:makemigrations', '-m', 'create item', '--output-style=static');
    const files = globSync('*.ts', { cwd: join(shop, 'migrations') });
    expect(files).toEqual([expect.stringMatching(/^\d{8}_\d{6}_shop-service_create_item\.ts$/)]);
    expect(made.output).toContain(`Created migrations/${files[0]}`);

    const migrated = await shopNx('run', 'shop-service:migrate', '--output-style=static');
    expect(migrated.output).toContain('Applied 1 migration');
    expect(await db.query(`select 1 from pg_tables where schemaname = 'public' and tablename = 'item'`)).toHaveLength(1);

    // The installed bin runs the compiled CLI
    const shown = await run(shop, process.execPath, [join(shop, 'node_modules/.bin/migrate'), 'showmigrations', '--json'], { DATABASE_URL: db.url });
    expect(shown.code, shown.output).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ applied: 1, pending: 0 });
    // Its database part runs in a worker thread started from the compiled module
    const checked = await run(shop, process.execPath, [join(shop, 'node_modules/.bin/migrate'), 'check'], { DATABASE_URL: db.url });
    expect(checked.code, checked.output).toBe(0);
    expect(checked.stdout).toContain('Check passed');

    // The check is cached against the installed version of the tool
    await shopNx('run', 'shop-service:migrate-check', '--output-style=static');
    const again = await shopNx('run', 'shop-service:migrate-check', '--output-style=static');
    expect(again.output).toMatch(/shop-service:migrate-check +\[(existing outputs match the cache|local cache)/);
  });
});
