import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMigration, hasDown } from '../stream/migration-file.ts';
import { checksumOf } from '../stream/stream.ts';
import { collectSql, sqlReader } from '../executor/sql-reader.ts';
import { isRenderedMigration, readRenderedMigration, renderMigration } from './writer.ts';

// Inside the package (not node_modules, where Node does not strip types), so '@mikro-orm/migrations' resolves.
const dir = mkdtempSync(join(import.meta.dirname, '.writer-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function load(name: string, code: string) {
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, code);
  return loadMigration({ name, service: 'auth-service', file, checksum: checksumOf(code) }, dir);
}

describe('renderMigration', () => {
  it('declares a change PostgreSQL cannot undo irreversible, under a comment per reason', async () => {
    const code = renderMigration({
      name: '20300101_000000_auth-service_mood_sad',
      service: 'auth-service',
      dependsOn: [],
      up: [`alter type "mood" add value 'sad'`],
      down: [],
      irreversible: ['PostgreSQL cannot remove a value from an enum type:', `"mood" gains 'sad'.`],
    });
    expect(code).toContain(`  // PostgreSQL cannot remove a value from an enum type:\n  // "mood" gains 'sad'.\n  static irreversible = true;\n`);
    expect(code).not.toContain('nothing to undo');
    expect((await load('20300101_000000_auth-service_mood_sad', code)).irreversible).toBe(true);
  });

  it('without reasons, a migration is not irreversible', async () => {
    const code = renderMigration({ name: '20300101_000001_auth-service_note', service: 'auth-service', dependsOn: [], up: ['create table "note" ("id" int)'], down: ['drop table "note"'], irreversible: [] });
    expect(code).not.toContain('irreversible');
    expect((await load('20300101_000001_auth-service_note', code)).irreversible).toBe(false);
  });

  it('writes a blank data migration whose empty down() rollback refuses until the author decides', async () => {
    const code = renderMigration({ name: '20300101_000002_auth-service_data', service: 'auth-service', dependsOn: [], up: [], down: [], empty: true });
    expect(code).toMatch(/^ {2}\/\/ static emptyDown = true;$/m);
    const definition = await load('20300101_000002_auth-service_data', code);
    expect(hasDown(definition)).toBe(true);
    expect(definition.migrationClass.emptyDown).toBeUndefined();
    const decided = await load('20300101_000003_auth-service_data', code.replace('// static emptyDown = true;', 'static emptyDown = true;'));
    expect(decided.migrationClass.emptyDown).toBe(true);
  });
});

describe('isRenderedMigration: a file exactly as the writer renders it is valid without importing it', () => {
  const rendered = renderMigration({
    name: '20300101_000004_auth-service_mixed',
    service: 'auth-service',
    dependsOn: ['20300101_000000_billing-service_initial'],
    up: ['select `quoted` ${not_a_placeholder} \\ $1', 'multi\nline'],
    down: [],
    irreversible: ['one reason'],
    takesOwnership: [{ table: 'ledger.label', from: 'ledger-service' }],
  });

  it('recognises what renderMigration writes, with every option, and it loads', async () => {
    expect(isRenderedMigration(rendered, 'auth-service')).toBe(true);
    const empty = renderMigration({ name: '20300101_000005_auth-service_data', service: 'auth-service', dependsOn: [], up: [], down: [], empty: true });
    expect(isRenderedMigration(empty, 'auth-service')).toBe(true);
    const transfer = renderMigration({ name: '20300101_000006_auth-service_take', service: 'auth-service', dependsOn: [], up: [], down: [], takesOwnership: [{ table: 'public.label', from: 'catalog-service' }] });
    expect(transfer).toContain('static emptyDown = true;');
    expect(isRenderedMigration(transfer, 'auth-service')).toBe(true);
    expect((await load('20300101_000004_auth-service_mixed', rendered)).dependsOn).toEqual(['20300101_000000_billing-service_initial']);
  });

  it('anything else is left to the import: another service, added code, an escape out of a comment or a literal', () => {
    expect(isRenderedMigration(rendered, 'billing-service')).toBe(false);
    expect(isRenderedMigration(rendered.replace('    this.addSql', '    console.log(1);\n    this.addSql'), 'auth-service')).toBe(false);
    expect(isRenderedMigration(rendered.replace('// one reason', '// one reason\u2028process.exit(1)'), 'auth-service')).toBe(false);
    expect(isRenderedMigration(rendered.replace('\\${not', '${not'), 'auth-service')).toBe(false);
    expect(isRenderedMigration(rendered.replace("'ledger.label'", "'ledger'label'"), 'auth-service')).toBe(false);
    expect(isRenderedMigration(rendered.replace(/\n$/, ''), 'auth-service')).toBe(false);
    expect(isRenderedMigration(rendered.replaceAll('\n', '\r\n'), 'auth-service')).toBe(false);
  });
});

describe('readRenderedMigration: a rendered file is read, not imported, to the same effect', () => {
  const source = {
    name: '20300101_000007_auth-service_tricky',
    service: 'auth-service',
    dependsOn: ['20300101_000000_billing-service_initial', '20300101_000001_catalog-service_initial'],
    up: ['select `quoted` ${not_a_placeholder} \\ $1 \\` \\${', 'multi\nline\r\nwith a carriage return', "insert into \"t\" values ('it''s')"],
    down: ['drop table "t"'],
    irreversible: ['a reason'],
    takesOwnership: [{ table: 'ledger.label', from: 'ledger-service' }],
  };

  it('gives the statics and the SQL that importing the file gives', async () => {
    const code = renderMigration(source);
    const file = join(dir, `${source.name}.ts`);
    writeFileSync(file, code);
    const imported = (await import(`${file}?fresh`)).MigrationAuthServiceTricky ?? Object.values(await import(`${file}?fresh`))[0];
    const read = await load(source.name, code); // loadMigration reads files of this shape
    expect(read.sql).toBeDefined();
    for (const key of ['service', 'dependsOn', 'transactional', 'irreversible', 'emptyDown', 'takesOwnership', 'allow', 'lockTimeout', 'statementTimeout']) {
      expect((read.migrationClass as any)[key], key).toEqual((imported as any)[key]);
    }
    const reader = sqlReader();
    for (const direction of ['up', 'down'] as const) {
      const fromImport = await collectSql(reader, { ...read, migrationClass: imported }, direction);
      expect((await collectSql(reader, read, direction)).statements, direction).toEqual(fromImport.statements);
      expect(read.sql![direction]).toEqual(fromImport.statements);
    }
    expect(read.sql!.up[1]).toBe('multi\nline\nwith a carriage return'); // as JavaScript reads a template literal
    expect(hasDown(read)).toBe(true);
  });

  it('reads nothing from a file of another shape (it is imported)', async () => {
    const code = renderMigration(source).replace('    this.addSql', '    console.log(1);\n    this.addSql');
    expect(readRenderedMigration(code, 'auth-service')).toBeUndefined();
    expect((await load('20300101_000008_auth-service_edited', code.replace('MigrationAuthServiceTricky', 'Edited'))).sql).toBeUndefined();
  });
});
