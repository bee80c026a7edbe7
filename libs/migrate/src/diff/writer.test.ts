import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMigration, hasDown } from '../stream/migration-file.ts';
import { checksumOf } from '../stream/stream.ts';
import { renderMigration } from './writer.ts';

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
