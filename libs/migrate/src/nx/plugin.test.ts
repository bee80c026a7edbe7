import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodes, createNodesV2, readsOutsideState, toolSource } from './plugin.ts';

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
    file('migrations/.snapshots/orders.json');

    const results = await infer(['nx.json', 'apps/orders/project.json', 'apps/orders/package.json', 'apps/web/package.json', 'libs/legacy/project.json']);
    expect(results.map(([source]) => source)).toEqual(['nx.json', 'apps/orders/project.json', 'libs/legacy/project.json']);
    const byRoot = Object.assign({}, ...results.map(([, result]) => result.projects));
    expect(byRoot.migrations.name).toBe('migrations');
    expect(Object.keys(byRoot.migrations.targets)).toEqual(['makemigrations', 'migrate', 'showmigrations', 'check', 'rollback']);
    expect(byRoot.migrations.targets.check.options).toEqual({ db: true });
    expect(Object.keys(byRoot['apps/orders'].targets)).toEqual(['makemigrations', 'migrate', 'migrate-check', 'showmigrations', 'rollback']);
    expect(byRoot['apps/orders'].implicitDependencies).toEqual(['migrations']);
    expect(byRoot['apps/orders'].targets['migrate-check'].inputs).toEqual(expect.arrayContaining(['{projectRoot}/src/db/models/**/*', '{workspaceRoot}/migrations/**/*', { runtime: `node -p "require('@tributary/migrate/package.json').version"` }]));
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
