import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { statementsParsed } from '../checks/lint.ts';
import { renderMigration } from '../diff/writer.ts';
import { loadMigration } from '../stream/migration-file.ts';
import { readStream } from '../stream/stream.ts';
import { refuseLintErrors } from './preflight.ts';

const root = mkdtempSync(join(tmpdir(), 'tributary-preflight-'));
mkdirSync(join(root, 'node_modules'));
mkdirSync(join(root, 'migrations'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(name: string, up: string[]): void {
  writeFileSync(join(root, 'migrations', `${name}.ts`), renderMigration({ name, service: 'auth-service', dependsOn: [], up, down: [] }));
}
const plan = () => Promise.all(readStream(join(root, 'migrations')).map((entry) => loadMigration(entry, root)));

describe('the lint check before migrate', () => {
  it('parses a generated migration once: its verdict is remembered by checksum', async () => {
    write('20300101_000001_auth-service_a', ['create table "a" ("id" int)']);
    write('20300101_000002_auth-service_b', ['alter table "a" add column "note" text null']);
    await refuseLintErrors(await plan(), root);
    const parsed = statementsParsed();
    await refuseLintErrors(await plan(), root);
    expect(statementsParsed()).toBe(parsed);
  });

  it('still refuses a remembered file once edited, and lints the whole plan again when one migration is new', async () => {
    write('20300101_000002_auth-service_b', ['alter table "users" drop column "email"']);
    await expect(refuseLintErrors(await plan(), root)).rejects.toThrow(/20300101_000002_auth-service_b\.ts was refused before anything ran: \[drop-column\]/);
    write('20300101_000002_auth-service_b', ['alter table "a" add column "note" text null']);
    write('20300101_000003_auth-service_c', ['drop table "a"']); // "a" is created in this plan: allowed, as without the memo
    const parsed = statementsParsed();
    await refuseLintErrors(await plan(), root);
    expect(statementsParsed()).toBeGreaterThan(parsed);
  });
});
