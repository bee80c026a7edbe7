/**
 * What real entity sets use and the example services do not: tables outside `public` (and a
 * pivot table there), the same table name in two schemas owned by two services, native enums,
 * single-table inheritance with an abstract root, an entity moved between services, widening a
 * serial key, and foreign keys onto what another service adds later. Each step runs the real
 * CLI on PostgreSQL and compares the database with what MikroORM's SchemaGenerator creates from
 * the same models; `makemigrations --check` must then be clean, also after the shards are rebuilt.
 */
import { symlinkSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/database.ts';
import { workspaceWithReference } from './support/reference.ts';
import { describeSchema } from './support/schema.ts';

const { ws, db, env, schema: schemaOf, reference: expected } = workspaceWithReference();
const cli = (...args: string[]) => ws.migrateOk(args, env);

const LEDGER_ENTRY = `import { defineEntity, p } from '@mikro-orm/core';
import { Account } from './account.ts';

export const LedgerEntry = defineEntity({
  name: 'LedgerEntry',
  tableName: 'entry',
  schema: 'ledger',
  properties: {
    id: p.integer().primary().autoincrement(),
    account: () => p.manyToOne(Account),
    kind: p.enum(['debit', 'credit'] as const).nativeEnumName('entry_kind'),
    amount: p.decimal().precision(14).scale(2),
  },
});
`;

const ACCOUNT = `import { defineEntity, p } from '@mikro-orm/core';
import { Label } from './label.ts';

export const Account = defineEntity({
  name: 'Account',
  schema: 'ledger',
  properties: {
    code: p.string().length(20).unique(),
    id: p.integer().primary().autoincrement(),
    status: p.enum(['open', 'frozen'] as const).nativeEnumName('account_status').default('open'),
    labels: () => p.manyToMany(Label).pivotTable('ledger.account_labels'),
  },
});
`;

const LABEL = `import { defineEntity, p } from '@mikro-orm/core';

export const Label = defineEntity({
  name: 'Label',
  schema: 'ledger',
  properties: {
    name: p.string().length(40),
    id: p.integer().primary().autoincrement(),
    color: p.enum(['red', 'blue'] as const).nativeEnumName('label_color').default('red'),
  },
});
`;

// A second "entry" table, in public, owned by another service; its key has a comment, ledger.entry's has none.
const CATALOG_ENTRY = `import { defineEntity, p } from '@mikro-orm/core';

export const CatalogEntry = defineEntity({
  name: 'CatalogEntry',
  tableName: 'entry',
  properties: {
    id: p.integer().primary().autoincrement().comment('catalog entry number'),
    title: p.string().length(100),
  },
});
`;

// Single-table inheritance with an abstract root, children with their own columns.
const PERSON = `import { defineEntity, p } from '@mikro-orm/core';

export const Person = defineEntity({
  name: 'Person',
  tableName: 'person',
  abstract: true,
  discriminatorColumn: 'type',
  discriminatorMap: { employee: 'Employee', manager: 'Manager' },
  properties: {
    id: p.integer().primary().autoincrement(),
    type: p.string().length(20),
    name: p.string().length(100),
  },
});

export const Employee = defineEntity({
  name: 'Employee',
  extends: Person,
  properties: {
    employeeProp: p.integer().unique(),
  },
});

export const Manager = defineEntity({
  name: 'Manager',
  extends: Person,
  properties: {
    managerProp: p.string().length(50),
  },
});
`;

beforeAll(() => {
  ws.write('apps/ledger-service/package.json', JSON.stringify({ name: '@tributary/ledger-service', private: true, type: 'module', exports: { './models': './src/db/models/index.ts' }, nx: { name: 'ledger-service' } }));
  ws.write('apps/ledger-service/src/db/models/index.ts', "export { Account } from './account.ts';\nexport { LedgerEntry } from './entry.ts';\nexport { Label } from './label.ts';\n");
  symlinkSync(ws.path('apps/ledger-service'), ws.path('node_modules/@tributary/ledger-service'));
  ws.write('apps/ledger-service/src/db/models/entry.ts', LEDGER_ENTRY);
  ws.write('apps/ledger-service/src/db/models/account.ts', ACCOUNT);
  ws.write('apps/ledger-service/src/db/models/label.ts', LABEL);
  ws.write('apps/catalog-service/src/db/models/entry.ts', CATALOG_ENTRY);
  ws.write('apps/auth-service/src/db/models/person.ts', PERSON);
});

/** `makemigrations --check` is clean, and still clean (writing nothing) after the shards are rebuilt from the stream. */
async function expectCleanCheck(): Promise<void> {
  expect((await ws.migrate(['makemigrations', '--check'], env)).code).toBe(0);
  ws.remove('migrations/.snapshots');
  const files = ws.migrations();
  const rebuilt = await ws.migrate(['makemigrations', '--check'], env);
  expect(rebuilt.stderr + rebuilt.stdout).toContain('No model changes without a migration');
  expect(rebuilt.code).toBe(0);
  expect(ws.migrations()).toEqual(files);
  await cli('makemigrations'); // writes the rebuilt shards back
  expect(ws.migrations()).toEqual(files);
}

async function makeAndMigrate(...args: string[]): Promise<string[]> {
  const before = ws.migrations();
  await cli('makemigrations', ...args);
  const created = ws.migrations().filter((f) => !before.includes(f));
  await cli('migrate', '--allow-destructive'); // these are model-change tests; lint's refusal is tested in trust.e2e
  expect(await schemaOf()).toEqual(await expected());
  expect((await cli('drift')).stdout).toContain('No drift.'); // the shards makemigrations wrote match what migrate did
  return created;
}

describe('real-world schemas on PostgreSQL', { timeout: 300_000 }, () => {
  it('creates tables in a non-public schema, a pivot there, native enums, STI with an abstract root, and public.entry next to ledger.entry', async () => {
    const created = await makeAndMigrate('-m', 'real world');
    expect(created.map((f) => f.split('_')[2]).sort()).toEqual(['auth-service', 'catalog-service', 'ledger-service']);
    const schema = await schemaOf();
    expect(schema).toContain('schema ledger');
    expect(schema).toContain('enum ledger.entry_kind (debit,credit)');
    expect(schema.some((line) => line.startsWith('column ledger.account_labels.'))).toBe(true);
    expect(schema.some((line) => line.startsWith('column entry.title'))).toBe(true);
    expect(schema.some((line) => line.startsWith('column person.manager_prop') && line.includes('null=YES'))).toBe(true);
    expect(schema.some((line) => line.startsWith('column person.employee_prop') && line.includes('null=YES'))).toBe(true);
    await expectCleanCheck();
  });

  it('keeps each native enum with the service whose tables use it when shards are rebuilt', async () => {
    ws.edit('apps/billing-service/src/db/models/invoice.ts', "status: p.enum(InvoiceStatuses).default('draft'),", "status: p.enum(InvoiceStatuses).nativeEnumName('invoice_status').default('draft'),");
    const [billing] = await makeAndMigrate('-m', 'native status');
    expect(ws.read(`migrations/${billing}`)).toContain('create type "invoice_status"');
    ws.remove('migrations/.snapshots');
    expect((await cli('makemigrations')).stdout).toContain('No changes detected'); // rebuilds and writes the shards
    const shards = ['auth-service', 'catalog-service', 'ledger-service'].map((s) => ws.shard(s));
    for (const shard of shards) expect(shard).not.toContain('invoice_status');
    expect(ws.shard('ledger-service')).toContain('entry_kind');
    expect(ws.shard('billing-service')).not.toContain('entry_kind');
    await expectCleanCheck();
  });

  it('marks adding a native enum value irreversible, and widening a serial key widens its sequence', async () => {
    ws.edit('apps/ledger-service/src/db/models/entry.ts', "['debit', 'credit']", "['debit', 'credit', 'reversal']");
    ws.edit('apps/ledger-service/src/db/models/label.ts', 'id: p.integer().primary().autoincrement(),', 'id: p.bigint().primary().autoincrement(),');
    const [ledger] = await makeAndMigrate('-m', 'reversal and big labels');
    const source = ws.read(`migrations/${ledger}`);
    expect(source).toMatch(/static irreversible = true/);
    expect(source).toContain(`pg_get_serial_sequence('"ledger"."label"', 'id')`);
    expect(await schemaOf()).toContain('sequence ledger.label_id_seq bigint');
    await expectCleanCheck();
  });

  it('a squash of ledger-service builds, on a fresh database, the schema its migrations built', async () => {
    const made = await ws.migrate(['squash', '--service', 'ledger-service', '-m', 'ledger baseline'], env);
    expect(made.code, made.stderr).toBe(0);
    const file = ws.migrations().find((f) => f.endsWith('_ledger-service_ledger_baseline.ts'))!;
    const fresh = await createTestDatabase();
    try {
      const migrated = await ws.migrate(['migrate', '--allow-destructive'], { ...env, DATABASE_URL: fresh.url });
      expect(migrated.code, migrated.stderr).toBe(0);
      const ran = (await fresh.query('select name from tributary_migrations')).map((r) => r.name as string);
      expect(ran.filter((name) => name.includes('_ledger-service_'))).toEqual([file.slice(0, -3)]);
      // Enum types (one with a value added later), the ledger schema, its pivot, the widened sequence: all as the originals left them.
      expect(await describeSchema(fresh.query)).toEqual(await schemaOf());
    } finally {
      await fresh.drop();
      ws.remove(`migrations/${file}`); // the steps below build on the unsquashed stream
    }
  });

  it('moves an entity to another service as an ownership transfer: no DDL, data kept', async () => {
    await db.query(`insert into "ledger"."label" ("name") values ('kept')`);
    const label = ws.read('apps/ledger-service/src/db/models/label.ts');
    ws.remove('apps/ledger-service/src/db/models/label.ts');
    ws.write('apps/catalog-service/src/db/models/label.ts', label);
    ws.edit('apps/ledger-service/src/db/models/account.ts', "import { Label } from './label.ts';", "import { Label } from '@tributary/catalog-service/models';");
    ws.edit('apps/ledger-service/src/db/models/index.ts', "export { Label } from './label.ts';\n", '');
    ws.edit('apps/catalog-service/src/db/models/index.ts', "export { Product } from './product.ts';", "export { Product } from './product.ts';\nexport { Label } from './label.ts';");
    expect((await ws.migrate(['makemigrations', '--check'], env)).code).toBe(1); // a move without a migration is a change
    const before = ws.migrations();
    const result = await cli('makemigrations', '-m', 'take labels');
    const created = ws.migrations().filter((f) => !before.includes(f));
    expect(created.map((f) => f.split('_')[2])).toEqual(['catalog-service']);
    expect(result.stdout + result.stderr).toMatch(/ledger\.label.*from ledger-service/);
    const source = ws.read(`migrations/${created[0]}`);
    expect(source).not.toMatch(/create table|drop table|create type|drop type|alter table/);
    expect(source).toMatch(/_ledger-service_/); // depends on the old owner's latest migration
    await cli('migrate');
    expect(await db.query(`select "name" from "ledger"."label"`)).toEqual([{ name: 'kept' }]);
    expect(await schemaOf()).toEqual(await expected());
    expect(ws.shard('ledger-service')).not.toContain('"label"');
    expect(ws.shard('catalog-service')).toContain('"label"');
    expect(ws.shard('ledger-service')).not.toContain('label_color'); // the enum type moves with its table
    expect(ws.shard('catalog-service')).toContain('label_color');
    await expectCleanCheck();
  });

  it("depends on the referenced service's latest migration, and refuses to drop a table another service references", async () => {
    // auth adds a unique column later; billing references it by a new foreign key.
    ws.edit('apps/auth-service/src/db/models/user.ts', 'displayName: p.string().length(120),', 'displayName: p.string().length(120),\n    handle: p.string().length(40).unique().nullable(),');
    const [auth] = await makeAndMigrate('--service', 'auth-service', '-m', 'handle');
    ws.edit('apps/billing-service/src/db/models/customer.ts', "legalName: p.string().length(200),", "legalName: p.string().length(200),\n    account: () => p.manyToOne(Account).nullable(),");
    ws.edit('apps/billing-service/src/db/models/customer.ts', "import { User } from '@tributary/auth-service/models';", "import { User } from '@tributary/auth-service/models';\nimport { Account } from '@tributary/ledger-service/models';");
    // ledger's models changed without a migration: a key into ledger must wait for it.
    ws.edit('apps/ledger-service/src/db/models/account.ts', "code: p.string().length(20).unique(),", "code: p.string().length(20).unique(),\n    opened: p.date().nullable(),");
    const early = await ws.migrate(['makemigrations', '--service', 'billing-service', '-m', 'account'], env);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('adds a foreign key into service ledger-service, whose models changed without a migration: run makemigrations for ledger-service first');
    await cli('makemigrations', '--service', 'ledger-service', '-m', 'opened'); // (billing's change is still pending: no schema comparison here)
    const [billing] = await makeAndMigrate('--service', 'billing-service', '-m', 'account');
    const source = ws.read(`migrations/${billing}`);
    const ledgerLatest = ws.migrations().filter((f) => f.includes('_ledger-service_')).at(-1)!.replace(/\.ts$/, '');
    expect(source).toContain(`'${ledgerLatest}'`);
    expect(auth).toBeTruthy();

    // ledger drops account while billing still references it: an error naming billing and Customer.
    ws.edit('apps/billing-service/src/db/models/customer.ts', "    account: () => p.manyToOne(Account).nullable(),\n", '');
    ws.edit('apps/billing-service/src/db/models/customer.ts', "import { Account } from '@tributary/ledger-service/models';\n", '');
    ws.remove('apps/ledger-service/src/db/models/account.ts');
    ws.remove('apps/ledger-service/src/db/models/entry.ts');
    ws.write('apps/ledger-service/src/db/models/index.ts', 'export {};\n');
    const refused = await ws.migrate(['makemigrations', '--service', 'ledger-service', '-m', 'drop accounts'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ledger\.account.*billing-service.*entity Customer/);
  });
});
