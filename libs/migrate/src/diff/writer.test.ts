import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMigration, hasDown } from '../stream/migration-file.ts';
import { checksumOf } from '../stream/stream.ts';
import { isRenderedMigration, renderMigration } from './writer.ts';

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
