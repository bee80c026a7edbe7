/**
 * Broken migration files do not slip through: `check` loads every file of the stream (a syntax
 * error, a class that does not extend Migration, a service the workspace does not have — each a
 * problem naming the file), `migrate` refuses a migration of an unknown service, and a file in
 * migrations/ that is not named like a migration is warned about by migrate and showmigrations.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { migrationSource as migration } from './support/migrations.ts';
import { workspaceWithDatabase } from './support/fixture.ts';

const { ws, db, env } = workspaceWithDatabase({ migrated: true });

const SYNTAX = 'migrations/20300101_000000_auth-service_broken_syntax.ts';
const NOT_A_MIGRATION = 'migrations/20300101_000001_auth-service_plain_class.ts';
const GHOST = 'migrations/20300101_000002_payments-service_ghost.ts';
const STRAY = 'migrations/Migration20300101000000.ts';

afterEach(() => {
  for (const file of [SYNTAX, NOT_A_MIGRATION, GHOST, STRAY]) ws.remove(file);
});

const applied = async () => (await db.query(`select name from tributary_migrations where status = 'applied' order by name`)).map((r) => r.name as string);

async function offlineProblems(): Promise<Array<{ kind: string; migration?: string; message: string }>> {
  const result = await ws.migrate(['check', '--offline', '--json']);
  expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  return JSON.parse(result.stdout).problems;
}

describe('check loads every migration file', () => {
  it('is clean on the committed stream (and remembers the files it validated)', async () => {
    const result = await ws.migrate(['check', '--offline']);
    expect(result.code, result.stderr).toBe(0);
  });

  it('reports a syntax error, a class that does not extend Migration and an unknown service, naming each file', async () => {
    ws.write(SYNTAX, `import { Migration } from '@mikro-orm/migrations';\nexport class Broken extends Migration {\n  override async up(): Promise<void> {\n    this.addSql('select 1'\n  }\n}\n`);
    ws.write(NOT_A_MIGRATION, `export class PlainClass {\n  static service = 'auth-service';\n  async up(): Promise<void> {}\n}\n`);
    ws.write(GHOST, migration(['create table "ghost" ("id" int)'], { service: 'payments-service' }));
    const problems = await offlineProblems();
    const invalid = problems.filter((p) => p.kind === 'invalid-migration');
    expect(invalid.map((p) => p.migration).sort()).toEqual([SYNTAX, NOT_A_MIGRATION, GHOST].map((f) => f.slice('migrations/'.length, -3)).sort());
    // Where in the file, and once: the models' part, which stopped at it replaying the stream, says no more.
    const syntax = invalid.find((p) => p.migration?.endsWith('broken_syntax'))!.message;
    expect(syntax).toMatch(new RegExp(`^Migration ${SYNTAX}:5:3 failed to load: `));
    for (const { message } of invalid) expect(problems.filter((p) => p.message === message)).toHaveLength(1);
    expect(invalid.find((p) => p.migration?.endsWith('plain_class'))!.message).toBe(`Migration ${NOT_A_MIGRATION} must export exactly one class extending Migration from @mikro-orm/migrations (found 0).`);
    expect(invalid.find((p) => p.migration?.endsWith('ghost'))!.message).toMatch(
      new RegExp(`^Migration ${GHOST} belongs to service "payments-service", which is not a service of this workspace \\(services: auth-service, billing-service, catalog-service\\)`),
    );
    const result = await ws.migrate(['check', '--offline']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(SYNTAX);
  });

  it("does not let a broken file of one service pass another service's unmigrated model change", async () => {
    ws.write(SYNTAX, `export const x = ;\n`);
    ws.edit('apps/billing-service/src/db/models/customer.ts', "currency: p.string().length(3).default('EUR'),", "currency: p.string().length(3).default('EUR'),\n    vatExempt: p.boolean().default(false),");
    try {
      const result = await ws.migrate(['check', '--offline', '--json', '--service', 'auth-service', '--service', 'billing-service']);
      expect(result.code).toBe(1);
      const problems = JSON.parse(result.stdout).problems;
      // billing's own part (an Nx task of billing-service keeps the problems without a service) fails too
      expect(problems.filter((p: any) => !p.service)).toEqual([{ kind: 'invalid-models', message: "No service's models were compared with the stream: replaying it stopped at the broken migration 20300101_000000_auth-service_broken_syntax." }]);
    } finally {
      ws.edit('apps/billing-service/src/db/models/customer.ts', "currency: p.string().length(3).default('EUR'),\n    vatExempt: p.boolean().default(false),", "currency: p.string().length(3).default('EUR'),");
    }
  });

  it('with a database too, a broken pending file is one problem, not two', async () => {
    ws.write(SYNTAX, `export const x = ;\n`);
    const result = await ws.migrate(['check', '--json'], env);
    expect(result.code).toBe(1);
    const about = JSON.parse(result.stdout).problems.filter((p: any) => p.migration === SYNTAX.slice('migrations/'.length, -3));
    expect(about.map((p: any) => p.kind).sort()).toEqual(['invalid-migration', 'pending']);
  });

  it('migrate refuses a migration of a service the workspace does not have, naming the file', async () => {
    ws.write(GHOST, migration(['create table "ghost" ("id" int)'], { service: 'payments-service' }));
    const before = await applied();
    const result = await ws.migrate(['migrate'], env);
    expect(result.code, result.stdout).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`error: Migration ${GHOST} belongs to service "payments-service", which is not a service of this workspace`));
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(await applied()).toEqual(before);
    expect(await db.query(`select to_regclass('ghost') as t`)).toEqual([{ t: null }]);
  });
});

describe('a file in migrations/ that is not named like a migration', () => {
  const warning = `${STRAY} does not follow the <YYYYMMDD>_<HHMMSS>_<service>_<slug>.ts naming, so it is not part of the stream`;

  it('is warned about by migrate, on stderr, without failing', async () => {
    ws.write(STRAY, migration(['create table "stray" ("id" int)']));
    const result = await ws.migrate(['migrate'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(warning);
    expect(result.stdout).not.toContain(STRAY);
    expect(await db.query(`select to_regclass('stray') as t`)).toEqual([{ t: null }]);
  });

  it('is warned about by showmigrations, never on stdout with --json', async () => {
    ws.write(STRAY, migration(['create table "stray" ("id" int)']));
    const text = await ws.migrate(['showmigrations'], env);
    expect(text.code).toBe(0);
    expect(text.stderr).toContain(warning);
    const json = await ws.migrate(['showmigrations', '--json'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).pending).toBe(0);
    expect(json.stderr).toContain(warning);
  });

  it('check still reports it as a problem', async () => {
    ws.write(STRAY, migration(['create table "stray" ("id" int)']));
    const problems = await offlineProblems();
    expect(problems.filter((p) => p.kind === 'stray-file').map((p) => p.message)).toEqual([`${warning}.`]);
  });
});
