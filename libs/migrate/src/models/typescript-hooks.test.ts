import { describe, expect, it } from 'vitest';
import { compilationOf, compileTypeScript, resolutionKey, typeScriptCandidates, TypeScriptSyntaxError } from './typescript-hooks.ts';

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

  it('share a package name among the files of one folder, not across folders or conditions', () => {
    const user = resolutionKey('@mikro-orm/core', from('file:///ws/apps/auth/src/db/models/user.ts'));
    expect(user).toBeDefined();
    expect(resolutionKey('@mikro-orm/core', from('file:///ws/apps/auth/src/db/models/order.ts'))).toBe(user);
    expect(resolutionKey('@mikro-orm/core', from('file:///ws/apps/billing/src/db/models/user.ts'))).not.toBe(user);
    expect(resolutionKey('@mikro-orm/core', from('file:///ws/apps/auth/src/db/models/user.ts', ['node', 'require']))).not.toBe(user);
    expect(resolutionKey('@mikro-orm/core/package.json', from('file:///ws/apps/auth/src/db/models/user.ts'))).not.toBe(user);
  });

  it('share a relative path by the file it names, apart for the workspace and for packages', () => {
    const key = resolutionKey('./order.ts', from('file:///ws/apps/auth/src/db/models/user.ts'));
    expect(resolutionKey('../models/order.ts', from('file:///ws/apps/auth/src/db/models/index.ts'))).toBe(key);
    expect(resolutionKey('./order.ts', from('file:///ws/apps/auth/src/db/other/user.ts'))).not.toBe(key);
    expect(resolutionKey('../../../../apps/auth/src/db/models/order.ts', from('file:///ws/node_modules/pkg/lib/index.js'))).not.toBe(key);
  });

  it('are not remembered for an entry point, a URL or a package import map', () => {
    expect(resolutionKey('file:///ws/main.ts', from(undefined))).toBeUndefined();
    expect(resolutionKey('node:fs', from('file:///ws/a.ts'))).toBeUndefined();
    expect(resolutionKey('file:///ws/b.ts', from('file:///ws/a.ts'))).toBeUndefined();
    expect(resolutionKey('#internal', from('file:///ws/a.ts'))).toBeUndefined();
    expect(resolutionKey('data:text/javascript,1', from('file:///ws/a.ts'))).toBeUndefined();
  });
});
