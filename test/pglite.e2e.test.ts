/**
 * The embedded default: without DATABASE_URL every command uses PGlite in .data/pglite/, the
 * same flow as on PostgreSQL gives MikroORM's schema, and a second process is refused clearly.
 * Reading the history and applying generated migrations never load MikroORM, and a run that
 * needs the ORM half-way (a migration that queries itself) carries on through it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceSchema } from './support/reference.ts';
import { renderMigration } from '../libs/migrate/src/diff/writer.ts';
import { checksumOf } from '../libs/migrate/src/stream/stream.ts';
import { modulesLoadedBy, packagesAmong } from './support/loaded-modules.ts';
import { migrationSource } from './support/migrations.ts';
import { describeSchema } from './support/schema.ts';
import { scratchWorkspace, type Workspace } from './support/workspace.ts';

let ws: Workspace;

beforeAll(() => {
  ws = scratchWorkspace();
});

afterAll(() => ws?.dispose());

async function cli(...args: string[]) {
  const result = await ws.migrate(args);
  if (result.code !== 0) throw new Error(`migrate ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result;
}

/** Reads the embedded database after the CLI has exited (it is single-process). */
async function queryEmbedded<T>(workspace: Workspace, read: (query: (sql: string) => Promise<any[]>) => Promise<T>): Promise<T> {
  const pglite = await PGlite.create({ dataDir: workspace.path('.data/pglite') });
  try {
    return await read(async (sql) => (await pglite.query(sql)).rows as any[]);
  } finally {
    await pglite.close();
  }
}

const embeddedSchema = (workspace = ws) => queryEmbedded(workspace, describeSchema);

describe('the embedded PGlite database', () => {
  it('check skips the database part until the embedded database exists', async () => {
    const result = await cli('check');
    expect(result.stderr).toContain('no DATABASE_URL and no embedded database yet: database not checked');
  });

  it('migrates the stream and says once which database it uses', async () => {
    const result = await cli('migrate');
    expect(result.stderr.match(/Using embedded PGlite \(\.data\/pglite\)/g)).toHaveLength(1);
    expect(result.stdout).toContain('Applied 3 migrations');
    const schema = await embeddedSchema();
    expect(schema).toContain('constraint customer.customer_user_id_foreign FOREIGN KEY (user_id) REFERENCES "user"(id)');
    expect(schema).toEqual(await referenceSchema(ws, 'pglite'));
    expect(JSON.parse((await cli('showmigrations', '--json')).stdout)).toMatchObject({ applied: 3, pending: 0 });
  });

  it('round-trips a model change: makemigrations, migrate, rollback', async () => {
    const before = await embeddedSchema();
    ws.edit('apps/catalog-service/src/db/models/product.ts', 'active: p.boolean().default(true),', "active: p.boolean().default(true),\n    weightGrams: p.integer().nullable(),\n    barcode: p.string().length(32).nullable().unique(),");
    const made = await cli('makemigrations', '-m', 'add weight');
    expect(made.stdout).toMatch(/Created migrations\/\d{8}_\d{6}_catalog-service_add_weight\.ts: \d+ statements?/);
    await cli('migrate');
    expect(await embeddedSchema()).toEqual(await referenceSchema(ws, 'pglite'));
    expect((await cli('check')).stdout).toContain('Check passed');
    await cli('rollback');
    expect(await embeddedSchema()).toEqual(before);
  });

  it('refuses a second process with a sentence naming the holder, and takes over a stale lock', async () => {
    writeFileSync(ws.path('.data/pglite.lock'), JSON.stringify({ pid: process.pid, command: 'gateway (test)' }));
    const busy = await ws.migrate(['showmigrations']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`error: The embedded PGlite (.data/pglite) is in use by process ${process.pid} (gateway (test)); PGlite allows one process at a time`);
    expect(busy.stderr).not.toMatch(/\n\s+at /); // no stack trace

    writeFileSync(ws.path('.data/pglite.lock'), JSON.stringify({ pid: 2 ** 22 + 17, command: 'long gone' }));
    expect((await ws.migrate(['showmigrations'])).code).toBe(0);
  });
});

describe('embedded runs that need no ORM', () => {
  let fresh: Workspace;
  beforeAll(() => {
    fresh = scratchWorkspace();
  });
  afterAll(() => fresh?.dispose());

  const applied = (workspace: Workspace) => queryEmbedded(workspace, async (query) => (await query(`select name from tributary_migrations where status = 'applied' order by id`)).map((r) => r.name as string));
  const tableExists = (workspace: Workspace, name: string) => queryEmbedded(workspace, async (query) => (await query(`select to_regclass('${name}') is not null as e`))[0].e as boolean);
  const generated = (name: string, up: string[]) => fresh.write(`migrations/${name}.ts`, renderMigration({ name, service: 'auth-service', dependsOn: [], up, down: [] }));

  it("load neither MikroORM nor Kysely: a fresh clone's migrate, the commands that read or write the history, rollback", async () => {
    const migrated = await modulesLoadedBy(fresh, ['migrate']);
    expect(packagesAmong(migrated, '@mikro-orm/core', 'kysely')).toEqual([]);
    expect(await embeddedSchema(fresh)).toEqual(await referenceSchema(fresh, 'pglite'));
    for (const command of [['showmigrations', '--json'], ['history'], ['current'], ['validate']]) {
      expect(packagesAmong(await modulesLoadedBy(fresh, command), '@mikro-orm/core', 'kysely'), command.join(' ')).toEqual([]);
    }
    const rolledBack = await modulesLoadedBy(fresh, ['rollback']);
    expect(packagesAmong(rolledBack, '@mikro-orm/core', 'kysely')).toEqual([]);
    expect(await tableExists(fresh, 'product')).toBe(false); // catalog-service's initial migration, reverted
    await fresh.migrateOk(['migrate']);
    // The commands that write the history alone: un-record, record again, realign a checksum.
    expect(packagesAmong(await modulesLoadedBy(fresh, ['rollback', '--fake']), '@mikro-orm/core', 'kysely')).toEqual([]);
    expect(packagesAmong(await modulesLoadedBy(fresh, ['stamp', 'head']), '@mikro-orm/core', 'kysely')).toEqual([]);
    await queryEmbedded(fresh, (query) => query(`update tributary_migrations set checksum = repeat('0', 64) where id = (select min(id) from tributary_migrations)`));
    expect((await fresh.migrate(['validate'])).code).toBe(1);
    expect(packagesAmong(await modulesLoadedBy(fresh, ['repair']), '@mikro-orm/core', 'kysely')).toEqual([]);
    const { migrations } = JSON.parse((await fresh.migrateOk(['history', '--json'])).stdout);
    expect(migrations.map((row: any) => [row.name, row.checksum])).toEqual(fresh.migrations().map((file) => [file.replace(/\.ts$/, ''), checksumOf(fresh.read(`migrations/${file}`))]));
  });

  it('a generated migration failing among others: those before it applied, none after, the file and statement named', async () => {
    generated('20300101_000001_auth-service_p', ['create table "p" ("id" int)']);
    generated('20300101_000002_auth-service_f', ['create table "f" ("id" int primary key)', 'insert into "f" values (1)', 'insert into "f" values (1)']);
    generated('20300101_000003_auth-service_q', ['create table "q" ("id" int)']);
    const result = await fresh.migrate(['migrate']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: Migration migrations\/20300101_000002_auth-service_f\.ts failed at statement 3 \(insert into "f" values \(1\)\): duplicate key value violates unique constraint "f_pkey"/);
    expect((await applied(fresh)).at(-1)).toBe('20300101_000001_auth-service_p');
    expect(await tableExists(fresh, 'f')).toBe(false);
    expect(await tableExists(fresh, 'q')).toBe(false);
    fresh.remove('migrations/20300101_000002_auth-service_f.ts');
    fresh.remove('migrations/20300101_000003_auth-service_q.ts');
  });

  it('generated, then one that queries the database itself, then generated: all applied in order, the ORM taking over half-way', async () => {
    generated('20300101_000004_auth-service_m1', ['create table "m1" ("id" int)']);
    fresh.write('migrations/20300101_000005_auth-service_m2.ts', migrationSource(['create table "m2" ("id" int)']).replace('override async up(): Promise<void> {', "override async up(): Promise<void> {\n    await this.execute('insert into \"m1\" values (1)');"));
    generated('20300101_000006_auth-service_m3', ['create table "m3" ("id" int)', 'insert into "m3" select "id" from "m1"']);
    const result = await fresh.migrateOk(['migrate']);
    expect(result.stdout).toContain('Applied 3 migrations');
    expect((await applied(fresh)).slice(-3)).toEqual(['20300101_000004_auth-service_m1', '20300101_000005_auth-service_m2', '20300101_000006_auth-service_m3']);
    expect(await queryEmbedded(fresh, (query) => query('select "id" from "m3"'))).toEqual([{ id: 1 }]);
    expect(await tableExists(fresh, 'm2')).toBe(true);
  });

  it('migrate --backup writes the backup from the same instance, still without MikroORM', async () => {
    generated('20300101_000007_auth-service_b1', ['create table "b1" ("id" int)']);
    const loaded = await modulesLoadedBy(fresh, ['migrate', '--backup']);
    expect(packagesAmong(loaded, '@mikro-orm/core', 'kysely')).toEqual([]);
    expect(await tableExists(fresh, 'b1')).toBe(true);
    const backups = readdirSync(fresh.path('.data/backups'));
    expect(backups).toHaveLength(1);
    expect(readFileSync(fresh.path('.data/backups', backups[0]!), 'utf8')).toMatch(/^-- PostgreSQL database dump/m);
  });
});
