import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compilationOf, compileTypeScript, enableTypeScriptHooks, resolutionKey, typeScriptCandidates, TypeScriptSyntaxError } from './typescript-hooks.ts';

describe('which files SWC compiles', () => {
  it('leaves files Node can strip to Node', () => {
    expect(compilationOf(`import { defineEntity, p } from '@mikro-orm/core';\n/** @deprecated use Y */\nexport const X = defineEntity({ name: 'X', properties: {} });\n`)).toBe('native');
    expect(compilationOf(`const email = 'ada@example.com';\n`)).toBe('native');
  });

  it('compiles decorated files, legacy unless they use MikroORM TC39 decorators', () => {
    expect(compilationOf(`@Entity()\nexport class A {}\n`)).toBe('legacy-decorators');
    expect(compilationOf(`class A {\n  @Property() name!: string;\n}\n`)).toBe('legacy-decorators');
    expect(compilationOf(`import { Entity } from '@mikro-orm/decorators/es';\nexport @Entity() class A {}\n`)).toBe('es-decorators');
  });

  it('compiles enums and parameter properties, which type stripping refuses', () => {
    expect(compilationOf(`export enum Role { Admin = 'admin' }\n`)).toBe('legacy-decorators');
    expect(compilationOf(`export const enum Flag { A = 1 }\n`)).toBe('legacy-decorators');
    expect(compilationOf(`class A { constructor(private readonly name: string) {} }\n`)).toBe('legacy-decorators');
  });
});

describe('compiling', () => {
  it('emits design:type metadata for legacy decorators', () => {
    const code = compileTypeScript(`function P(): any { return () => {}; }\nexport class A {\n  @P() born!: Date;\n}\n`, '/w/a.ts', 'legacy-decorators');
    expect(code).toContain('_ts_metadata("design:type", typeof Date === "undefined" ? Object : Date)');
  });

  it('names the position of a syntax error, counting a tab as one column', () => {
    let thrown: unknown;
    try {
      compileTypeScript(`export class A {\n\t@P({ index: true )\n\tx!: string;\n}\n`, '/w/a.ts', 'legacy-decorators');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeScriptSyntaxError);
    expect(thrown).toMatchObject({ file: '/w/a.ts', line: 2, column: 19, message: "Expected ',', got ')'" });
  });
});

describe('imports written for a bundler', () => {
  it('map to the TypeScript file', () => {
    expect(typeScriptCandidates('./user')).toEqual(['./user.ts', './user.mts', './user/index.ts']);
    expect(typeScriptCandidates('./user.js')).toEqual(['./user.ts']);
    expect(typeScriptCandidates('./user.mjs')).toEqual(['./user.mts']);
    expect(typeScriptCandidates('./user.ts')).toEqual([]);
  });
});

describe('resolutions remembered for the process', () => {
  const from = (parentURL: string | undefined, conditions = ['node', 'import']) => ({ parentURL, conditions, importAttributes: {} });

  it('are shared by the files of one folder, for the same text, conditions and attributes', () => {
    const user = resolutionKey('@mikro-orm/core', from('file:///ws/apps/auth/src/db/models/user.ts'));
    expect(user).toBeDefined();
    expect(resolutionKey('@mikro-orm/core', from('file:///ws/apps/auth/src/db/models/order.ts'))).toBe(user);
    expect(resolutionKey('@mikro-orm/core', from('file:///ws/apps/billing/src/db/models/user.ts'))).not.toBe(user);
    expect(resolutionKey('@mikro-orm/core', from('file:///ws/apps/auth/src/db/models/user.ts', ['node', 'require']))).not.toBe(user);
    expect(resolutionKey('@mikro-orm/core', { ...from('file:///ws/apps/auth/src/db/models/user.ts'), importAttributes: { type: 'json' } })).not.toBe(user);
    expect(resolutionKey('@mikro-orm/core/package.json', from('file:///ws/apps/auth/src/db/models/user.ts'))).not.toBe(user);
  });

  it('of a relative path, by its text from the folder: require() reads "a b" and "a%20b" as two files', () => {
    const key = resolutionKey('./order.ts', from('file:///ws/apps/auth/src/db/models/user.ts'));
    expect(resolutionKey('./order.ts', from('file:///ws/apps/auth/src/db/models/invoice.ts'))).toBe(key);
    expect(resolutionKey('../models/order.ts', from('file:///ws/apps/auth/src/db/models/index.ts'))).not.toBe(key);
    expect(resolutionKey('./order.ts', from('file:///ws/apps/auth/src/db/other/user.ts'))).not.toBe(key);
    const require = ['node', 'require'];
    expect(resolutionKey('./a b.cjs', from('file:///ws/lib/index.cjs', require))).not.toBe(resolutionKey('./a%20b.cjs', from('file:///ws/lib/index.cjs', require)));
  });

  it('are not remembered for an entry point, a URL or a package import map', () => {
    expect(resolutionKey('file:///ws/main.ts', from(undefined))).toBeUndefined();
    expect(resolutionKey('node:fs', from('file:///ws/a.ts'))).toBeUndefined();
    expect(resolutionKey('file:///ws/b.ts', from('file:///ws/a.ts'))).toBeUndefined();
    expect(resolutionKey('#internal', from('file:///ws/a.ts'))).toBeUndefined();
    expect(resolutionKey('data:text/javascript,1', from('file:///ws/a.ts'))).toBeUndefined();
  });
});

describe('the resolve hook', () => {
  // In a Node process of its own: vitest loads a test's imports through its own module runner.
  it('asks the hooks below it once per specifier and folder, remembers no failure, and finds x.ts for ./x.js', () => {
    const root = mkdtempSync(join(tmpdir(), 'tributary-resolve-'));
    try {
      const write = (path: string, text: string) => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      write('lib/util.ts', 'export const util = 1;\n');
      write('models/b.ts', "import { util } from '../lib/util.js';\nexport const b = util;\n");
      write('models/a.ts', "import { util } from '../lib/util.js';\nimport { b } from './b.ts';\nexport const a = util + b;\n");
      write('models/c.ts', "export { later } from './later.ts';\n");
      write('models/d.ts', "export { later } from './later.ts';\n");
      write('run.mjs', `
        import { registerHooks } from 'node:module';
        import { writeFileSync } from 'node:fs';
        const asked = [];
        registerHooks({ resolve(specifier, context, nextResolve) { if (context.parentURL?.includes('/models/')) asked.push(specifier); return nextResolve(specifier, context); } });
        const { enableTypeScriptHooks } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'typescript-hooks.ts')).href)});
        enableTypeScriptHooks();
        const { a } = await import('./models/a.ts');
        const failed = await import('./models/c.ts').then(() => 'loaded', (error) => error.code);
        writeFileSync(new URL('./models/later.ts', import.meta.url), 'export const later = 3;\\n');
        const { later } = await import('./models/d.ts');
        console.log(JSON.stringify({ a, asked, failed, later }));
      `);
      const seen = JSON.parse(execFileSync(process.execPath, [join(root, 'run.mjs')], { encoding: 'utf8' }));
      expect(seen.a).toBe(2);
      // a.ts and b.ts both import it: asked once, found as util.ts; b.ts's import answered from memory.
      expect(seen.asked.filter((s: string) => s.startsWith('../lib/util'))).toEqual(['../lib/util.js', '../lib/util.ts']);
      expect(seen.failed).toBe('ERR_MODULE_NOT_FOUND');
      expect(seen.later).toBe(3);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
