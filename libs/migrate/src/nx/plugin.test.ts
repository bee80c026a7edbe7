import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileCacheForTasks, createDependencies, createNodes, createNodesV2, preTasksExecution, readsOutsideState, toolSource } from './plugin.ts';

let root: string;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function file(path: string, content = '{}'): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), content);
}

async function infer(files: string[]) {
  const [, fn] = createNodesV2;
  return fn(files, {}, { workspaceRoot: root, nxJsonConfiguration: {} });
}

describe('createNodes', () => {
  it('reaches Nx through a JavaScript entry (Nx registers no TypeScript hooks for it) with what plugin.ts exports', async () => {
    const entry = createRequire(import.meta.url).resolve('@tributary/migrate/plugin');
    expect(entry).toMatch(/\.js$/);
    expect(Object.keys(await import(entry))).toEqual(Object.keys(await import('./plugin.ts')));
  });

  it('names one pair for both the Nx 24 and the older export', () => {
    expect(createNodes).toBe(createNodesV2);
    expect(createNodesV2[0]).toBe('{**/project.json,**/package.json,nx.json}');
  });

  it('gives every service the five targets once, and the stream folder the global ones', async () => {
    root = mkdtempSync(join(tmpdir(), 'tributary-plugin-'));
    file('nx.json');
    file('apps/orders/project.json', JSON.stringify({ name: 'orders' }));
    file('apps/orders/package.json', JSON.stringify({ name: '@acme/orders' }));
    file('apps/orders/src/db/models/order.ts', 'export const Order = 1;\n');
    file('apps/web/package.json', JSON.stringify({ name: 'web' })); // no models: not a service
    file('libs/legacy/project.json', JSON.stringify({ name: 'legacy' }));
    file('libs/legacy/db/models/thing.ts', '');
    file('migrations/.snapshots/orders/20260101_000000_orders_initial.json');

    const results = await infer(['nx.json', 'apps/orders/project.json', 'apps/orders/package.json', 'apps/web/package.json', 'libs/legacy/project.json']);
    expect(results.map(([source]) => source)).toEqual(['nx.json', 'apps/orders/project.json', 'libs/legacy/project.json']);
    const byRoot = Object.assign({}, ...results.map(([, result]) => result.projects));
    expect(byRoot.migrations.name).toBe('migrations');
    expect(Object.keys(byRoot.migrations.targets)).toEqual(['makemigrations', 'migrate', 'showmigrations', 'check', 'rollback']);
    expect(byRoot.migrations.targets.check.options).toEqual({ db: true });
    expect(Object.keys(byRoot['apps/orders'].targets)).toEqual(['makemigrations', 'migrate', 'migrate-check', 'showmigrations', 'rollback']);
    expect(byRoot['apps/orders'].implicitDependencies).toBeUndefined();
    expect(byRoot['apps/orders'].targets['migrate-check'].inputs).toEqual(expect.arrayContaining(['{projectRoot}/src/db/models/**/*', '{workspaceRoot}/migrations/????????_??????_orders_*.ts', { runtime: `node -p "require('@tributary/migrate/package.json').version"` }]));
    expect(byRoot['libs/legacy'].targets['migrate-check'].inputs[0]).toBe('{projectRoot}/db/models/**/*');
  });

  it('infers no migrations project while the stream folder holds no file (Nx cannot hash an empty project)', async () => {
    root = mkdtempSync(join(tmpdir(), 'tributary-plugin-'));
    file('nx.json');
    file('apps/orders/package.json', JSON.stringify({ name: 'orders' }));
    file('apps/orders/src/db/models/order.ts', '');
    mkdirSync(join(root, 'migrations'));
    const results = await infer(['nx.json', 'apps/orders/package.json']);
    expect(results.map(([source]) => source)).toEqual(['apps/orders/package.json']);
    expect(results[0]![1].projects!['apps/orders']!.implicitDependencies).toBeUndefined();
  });
});

/** auth; billing imports auth's user; catalog imports a shared file that imports auth's session; notes imports nothing. */
function referencingWorkspace(): void {
  root = mkdtempSync(join(tmpdir(), 'tributary-plugin-'));
  file('nx.json');
  for (const service of ['auth', 'billing', 'catalog', 'notes']) file(`apps/${service}/package.json`, JSON.stringify({ name: service }));
  file('apps/auth/src/db/models/user.ts', 'export const User = 1;\n');
  file('apps/auth/src/db/models/session.ts', "import { User } from './user.ts';\nexport const Session = User;\n");
  file('apps/billing/src/db/models/customer.ts', 'export const Customer = 1;\n');
  file('apps/billing/src/db/models/invoice.ts', "import { User } from '../../../../auth/src/db/models/user.ts';\nexport const Invoice = User;\n");
  file('libs/shared/audit.ts', "import { Session } from '../../apps/auth/src/db/models/session.ts';\nexport const Audit = Session;\n");
  file('apps/catalog/src/db/models/product.ts', "import { Audit } from '../../../../../libs/shared/audit.ts';\nexport const Product = Audit;\n");
  file('apps/notes/src/db/models/note.ts', 'export const Note = 1;\n');
  file('migrations/.snapshots/auth/20260101_000000_auth_initial.json');
}

const SERVICE_FILES = ['nx.json', 'apps/auth/package.json', 'apps/billing/package.json', 'apps/catalog/package.json', 'apps/notes/package.json'];

describe('what a service check reads', () => {
  it("is its own migrations and shard and those of the services its models import, not the whole stream", async () => {
    referencingWorkspace();
    const results = await infer(SERVICE_FILES);
    const inputs = (root: string) => Object.assign({}, ...results.map(([, result]) => result.projects))[root].targets['migrate-check'].inputs as unknown[];
    const streamOf = (service: string) => [`{workspaceRoot}/migrations/????????_??????_${service}_*.ts`, `{workspaceRoot}/migrations/.snapshots/${service}/*.json`];
    const streamInputs = (root: string) => inputs(root).filter((input) => typeof input === 'string' && input.startsWith('{workspaceRoot}/migrations/')).sort();
    expect(streamInputs('apps/auth')).toEqual(streamOf('auth').sort());
    expect(streamInputs('apps/billing')).toEqual([...streamOf('auth'), ...streamOf('billing')].sort());
    expect(streamInputs('apps/catalog')).toEqual([...streamOf('auth'), ...streamOf('catalog')].sort()); // through libs/shared
    expect(streamInputs('apps/notes')).toEqual(streamOf('notes').sort());
    for (const [, result] of results) for (const project of Object.values(result.projects ?? {})) expect(project.implicitDependencies).toBeUndefined();
  });

  it('makes a service depend on the services whose models its models import, in the project graph', async () => {
    referencingWorkspace();
    // As Nx calls it: with the projects createNodes inferred, keyed by name (here the folder's)
    const inferred = (await infer(SERVICE_FILES)).flatMap(([, result]) => Object.entries(result.projects ?? {}));
    const projects = Object.fromEntries(inferred.map(([root, project]) => [project.name ?? root.split('/').pop()!, { ...project, root }]));
    const dependencies = await createDependencies({}, { workspaceRoot: root, projects, nxJsonConfiguration: {}, externalNodes: {}, fileMap: { projectFileMap: {}, nonProjectFiles: [] }, filesToProcess: { projectFileMap: {}, nonProjectFiles: [] } });
    expect(dependencies).toEqual([
      { source: 'billing', target: 'auth', type: 'implicit' },
      { source: 'catalog', target: 'auth', type: 'implicit' }, // through libs/shared
    ]);
  });
});

describe('toolSource', () => {
  it('hashes the files of a library that lives in the workspace, the package version otherwise', () => {
    root = mkdtempSync(join(tmpdir(), 'tributary-plugin-'));
    file('package.json');
    expect(toolSource(root)).toEqual({ kind: 'package', name: '@tributary/migrate', locked: false });
    file('package-lock.json', JSON.stringify({ packages: { 'node_modules/@tributary/migrate': { version: '0.1.0' } } }));
    expect(toolSource(root)).toEqual({ kind: 'package', name: '@tributary/migrate', locked: true });
    const repo = join(import.meta.dirname, '../../../..');
    expect(toolSource(repo)).toEqual({ kind: 'workspace', root: 'libs/migrate' });
  });
});

describe('readsOutsideState', () => {
  it('is true for --db and --since, which make migrate-check read state outside its inputs', () => {
    expect(readsOutsideState(['node', 'nx', 'run-many', '-t', 'migrate-check', '--db'])).toBe(true);
    expect(readsOutsideState(['nx', 'affected', '-t', 'migrate-check', '--since=origin/main'])).toBe(true);
    expect(readsOutsideState(['nx', 'run', 'a:migrate-check', '--since', 'HEAD~1'])).toBe(true);
    expect(readsOutsideState(['nx', 'run-many', '-t', 'migrate-check'])).toBe(false);
    expect(readsOutsideState(['nx', 'run-many', '-t', 'migrate-check', '--db=false', '--dbx'])).toBe(false);
  });
});

describe('compileCacheForTasks', () => {
  const nxDir = join('/tmp/.nx/0/compile-cache', `v${process.versions.node}-x64-ef5a0af0-0`);

  it("hands the processes Nx starts the folder of Nx's own compile cache (Node adds its version's subfolder)", () => {
    expect(compileCacheForTasks({}, nxDir)).toEqual({ NODE_COMPILE_CACHE: '/tmp/.nx/0/compile-cache' });
    expect(compileCacheForTasks({}, '/var/cache/node')).toEqual({ NODE_COMPILE_CACHE: '/var/cache/node' });
  });

  it('leaves the environment alone when it names a folder, turns the cache off, or Nx runs without one', () => {
    expect(compileCacheForTasks({ NODE_COMPILE_CACHE: '/elsewhere' }, nxDir)).toEqual({});
    expect(compileCacheForTasks({ NODE_DISABLE_COMPILE_CACHE: '1' }, nxDir)).toEqual({});
    expect(compileCacheForTasks({}, undefined)).toEqual({});
  });

  it('sets it on every run of a long-lived process (the Nx daemon), where Nx records only what a run writes', async () => {
    const saved = { env: process.env, cache: process.env.NODE_COMPILE_CACHE };
    delete process.env.NODE_COMPILE_CACHE;
    // As in Nx's own process, where Nx turned the compile cache on.
    const { enableCompileCache, getCompileCacheDir } = await import('node:module');
    enableCompileCache(join(tmpdir(), 'tributary-plugin-test-compile-cache'));
    const folder = getCompileCacheDir()!;
    expect(folder).toBeTruthy();
    const recorded: Array<string | undefined> = [];
    try {
      for (let run = 0; run < 2; run++) {
        // What Nx's loaded-nx-plugin.js does around preTasksExecution when a daemon or isolation is on.
        const updates: Record<string, string> = {};
        process.env = new Proxy(saved.env, { set: (target, key: string, value) => ((target[key] = value), (updates[key] = value), true) });
        preTasksExecution(undefined, { workspaceRoot: '/w', nxJsonConfiguration: {}, argv: ['nx', 'run-many', '-t', 'migrate-check'] } as any);
        process.env = saved.env;
        recorded.push(updates.NODE_COMPILE_CACHE);
      }
    } finally {
      process.env = saved.env;
      if (saved.cache === undefined) delete process.env.NODE_COMPILE_CACHE;
      else process.env.NODE_COMPILE_CACHE = saved.cache;
    }
    expect(recorded).toEqual([compileCacheForTasks({}, folder).NODE_COMPILE_CACHE, compileCacheForTasks({}, folder).NODE_COMPILE_CACHE]);
    expect(recorded[1]).toEqual(expect.any(String));
  });
});
