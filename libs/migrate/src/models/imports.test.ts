import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importedWorkspaceFiles, importSpecifiers, importWalk } from './imports.ts';

describe('importSpecifiers', () => {
  it('finds static, re-exported, side-effect and dynamic imports', () => {
    const source = `
import { defineEntity, p } from '@mikro-orm/core';
import type { Base } from "../base.ts";
import * as shared from './shared.ts';
import './side-effect.ts';
export { User } from '@acme/auth-service/models';
export * from './more.ts';
const lazy = await import('./lazy.ts');
import {
  a,
  b,
} from './multi-line.ts';
`;
    expect(importSpecifiers(source)).toEqual(['@mikro-orm/core', '../base.ts', './shared.ts', './side-effect.ts', '@acme/auth-service/models', './more.ts', './lazy.ts', './multi-line.ts']);
  });
});

describe('importedWorkspaceFiles', () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function file(path: string, content = ''): string {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
    return join(root, path);
  }

  it("follows imports out of the models folder, through workspace packages, but not into installed packages", () => {
    root = mkdtempSync(join(tmpdir(), 'tributary-imports-'));
    file('libs/base/src/columns.ts', "export const createdAt = 1;\n");
    file('libs/base/src/index.ts', "export * from './columns.ts';\n");
    file('apps/auth/package.json', JSON.stringify({ name: '@acme/auth', exports: { './models': './src/db/models/index.ts' } }));
    file('apps/auth/src/db/models/index.ts', "export { User } from './user.ts';\n");
    file('apps/auth/src/db/models/user.ts', "import { createdAt } from '../../../../../libs/base/src/index.ts';\nexport const User = createdAt;\n");
    file('node_modules/external/package.json', JSON.stringify({ name: 'external', main: 'index.js' }));
    file('node_modules/external/index.js', "require('./other.js');\n");
    mkdirSync(join(root, 'node_modules/@acme'), { recursive: true });
    symlinkSync(join(root, 'apps/auth'), join(root, 'node_modules/@acme/auth'));
    const models = join(root, 'apps/billing/src/db/models');
    const customer = file('apps/billing/src/db/models/customer.ts', "import { User } from '@acme/auth/models';\nimport { Invoice } from './invoice.ts';\nimport 'external';\nimport 'node:fs';\nimport './missing.ts';\n");
    const invoice = file('apps/billing/src/db/models/invoice.ts', "export const Invoice = 1;\n");

    expect(importedWorkspaceFiles([customer, invoice], models, root)).toEqual([
      'apps/auth/src/db/models/index.ts',
      'apps/auth/src/db/models/user.ts',
      'libs/base/src/columns.ts',
      'libs/base/src/index.ts',
    ]);
  });

  it('follows an import written for a bundler to the TypeScript file the model loads (./util.js → util.ts)', () => {
    root = mkdtempSync(join(tmpdir(), 'tributary-imports-'));
    file('apps/shop/src/lib/util.ts', 'export const util = 1;\n');
    file('apps/shop/src/lib/money.mts', 'export const money = 1;\n');
    file('apps/shop/src/lib/plain.js', 'export const plain = 1;\n');
    file('apps/shop/src/lib/plain.ts', 'export const shadowed = 1;\n');
    const model = file('apps/shop/src/db/models/order.ts', "import { util } from '../../lib/util.js';\nimport { money } from '../../lib/money.mjs';\nimport { plain } from '../../lib/plain.js';\nexport const Order = util + money + plain;\n");
    expect(importedWorkspaceFiles([model], join(root, 'apps/shop/src/db/models'), root)).toEqual(['apps/shop/src/lib/money.mts', 'apps/shop/src/lib/plain.js', 'apps/shop/src/lib/util.ts']);
  });

  it('resolves a package importing its own name to itself, even with another copy installed', () => {
    root = mkdtempSync(join(tmpdir(), 'tributary-imports-'));
    file('apps/solo/package.json', JSON.stringify({ name: '@acme/solo', exports: { './shared': './src/shared.ts' } }));
    file('apps/solo/src/shared.ts', 'export const Shared = 1;\n');
    const model = file('apps/solo/src/db/models/thing.ts', "import { Shared } from '@acme/solo/shared';\nexport const Thing = Shared;\n");
    file('node_modules/@acme/solo/package.json', JSON.stringify({ name: '@acme/solo', exports: { './shared': './shared.js' } }));
    file('node_modules/@acme/solo/shared.js', 'exports.Shared = 1;\n');
    expect(importedWorkspaceFiles([model], join(root, 'apps/solo/src/db/models'), root)).toEqual(['apps/solo/src/shared.ts']);
  });
});

describe("an import walk's real paths", () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('are realpath(3) of each path: through a linked folder, of a linked file, of a folder', () => {
    root = mkdtempSync(join(tmpdir(), 'tributary-realpaths-'));
    mkdirSync(join(root, 'real/models'), { recursive: true });
    writeFileSync(join(root, 'real/models/user.ts'), '');
    writeFileSync(join(root, 'real/models/order.ts'), '');
    writeFileSync(join(root, 'elsewhere.ts'), '');
    symlinkSync(join(root, 'real'), join(root, 'linked'));
    symlinkSync(join(root, 'elsewhere.ts'), join(root, 'real/models/shortcut.ts'));
    const walk = importWalk();
    for (const path of ['linked/models/user.ts', 'linked/models/order.ts', 'linked/models/shortcut.ts', 'real/models/user.ts', 'linked/models', 'linked', 'linked/', '.']) {
      expect(walk.realPath(join(root, path)), path).toBe(realpathSync.native(join(root, path)));
    }
    expect(walk.realPath(join(root, 'linked/models/shortcut.ts'))).toBe(realpathSync.native(join(root, 'elsewhere.ts')));
    expect(() => walk.realPath(join(root, 'linked/models/missing.ts'))).toThrow(/ENOENT/);
  });
});
