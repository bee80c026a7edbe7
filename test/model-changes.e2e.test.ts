/**
 * Every kind of model change, end to end on PostgreSQL with the real CLI: makemigrations writes
 * one file for the service that changed, migrate brings the database to exactly what MikroORM's
 * schema generator creates from the models, and rollback restores the schema before it.
 */
import { describe, expect, it } from 'vitest';
import { workspaceWithReference } from './support/reference.ts';

const { ws, env, schema: schemaOf, reference } = workspaceWithReference();
const cli = (...args: string[]) => ws.migrateOk(args, env);

async function expected(): Promise<string[]> {
  const lines = await reference();
  expect(lines).toContain('constraint user.user_email_unique UNIQUE (email)'); // never compare two empty lists
  return lines;
}

/** What the last makemigrations of a round trip said (its data-loss warnings are on stderr). */
let made = { stdout: '', stderr: '' };

/** makemigrations → migrate → compare with MikroORM → rollback → compare with before → migrate. */
async function roundTrip(message: string, services: string[]): Promise<string[]> {
  const before = await schemaOf();
  const filesBefore = ws.migrations();
  made = await cli('makemigrations', '-m', message);
  const created = ws.migrations().filter((f) => !filesBefore.includes(f));
  expect(created.map((f) => f.split('_')[2])).toEqual(services);
  // Model-change tests: lint's refusal of destructive changes has its own tests (trust, lint).
  await cli('migrate', '--allow-destructive');
  expect(await schemaOf()).toEqual(await expected());
  await cli('rollback', '-s', String(created.length));
  expect(await schemaOf()).toEqual(before);
  await cli('migrate', '--allow-destructive');
  return created;
}

describe('model changes on PostgreSQL', () => {
  it('applies the committed stream of a fresh clone, which matches the models', async () => {
    expect((await cli('makemigrations')).stdout).toContain('No changes detected');
    const result = await cli('migrate');
    expect(result.stdout).toMatch(/Applied 3 migrations/);
    expect(result.stderr).toContain('Using PostgreSQL');
    expect(await schemaOf()).toEqual(await expected());
  });

  it('adds columns, a default, an index, a unique constraint and a check', async () => {
    ws.edit('apps/auth-service/src/db/models/user.ts', 'displayName: p.string().length(120),', 'displayName: p.string().length(120),\n    emailVerified: p.boolean().default(false),\n    locale: p.string().length(10).nullable().index(),');
    ws.edit('apps/auth-service/src/db/models/api-key.ts', 'secretHash: p.string().length(128),', 'secretHash: p.string().length(128),\n    label: p.string().length(80).nullable().unique(),');
    ws.edit('apps/billing-service/src/db/models/invoice.ts', "tableName: 'invoice',", "tableName: 'invoice',\n  checks: [{ name: 'invoice_total_not_negative', expression: 'total >= 0' }],");
    const [auth, billing] = await roundTrip('add email verified', ['auth-service', 'billing-service']);
    expect(ws.read(`migrations/${auth}`)).toContain('add "email_verified" boolean not null default false');
    expect(ws.read(`migrations/${billing}`)).toContain('invoice_total_not_negative');
  });

  it('alters types, lengths, defaults, nullability and enum values, drops an index and a column', async () => {
    ws.edit('apps/auth-service/src/db/models/user.ts', "displayName: p.string().length(120)", "displayName: p.string().length(200)");
    ws.edit('apps/auth-service/src/db/models/user.ts', "['member', 'admin', 'support']", "['member', 'admin', 'support', 'auditor']");
    ws.edit('apps/auth-service/src/db/models/session.ts', 'expiresAt: p.datetime().index(),', 'expiresAt: p.datetime(),');
    ws.edit('apps/auth-service/src/db/models/api-key.ts', /\s+lastUsedAt: p\.datetime\(\)\.nullable\(\),/, '');
    ws.edit('apps/billing-service/src/db/models/customer.ts', "currency: p.string().length(3).default('EUR')", "currency: p.string().length(3).default('USD')");
    ws.edit('apps/billing-service/src/db/models/customer.ts', 'taxId: p.string().length(32).nullable()', 'taxId: p.string().length(32)');
    ws.edit('apps/billing-service/src/db/models/invoice-line.ts', 'quantity: p.integer()', 'quantity: p.bigint()');
    const [auth] = await roundTrip('widen and tidy', ['auth-service', 'billing-service']);
    const source = ws.read(`migrations/${auth}`);
    expect(source).toContain('drop column "last_used_at"');
    expect(made.stderr).toContain('⚠ data loss [drop-column]: Drops column "api_key"."last_used_at" and its data.');
    // down() restores what up() changed
    expect(source).toMatch(/down\(\)[\s\S]*varchar\(120\)/);
    expect(source).toMatch(/down\(\)[\s\S]*create index "session_expires_at_index"/);
  });

  it('warns when it drops a default the app may rely on (drop-default), in a dry run too', async () => {
    ws.edit('apps/billing-service/src/db/models/customer.ts', "currency: p.string().length(3).default('USD')", 'currency: p.string().length(3)');
    const warning = '⚠ warning [drop-default]: Drops the default of "customer"."currency"';
    const dry = await cli('makemigrations', '--dry-run');
    expect(dry.stdout).toContain('alter column "currency" drop default');
    expect(dry.stderr).toContain(warning);
    expect(dry.stderr).toContain('Safely: deploy code that sets the column on every insert first');
    const [billing] = await roundTrip('no currency default', ['billing-service']);
    expect(ws.read(`migrations/${billing}`)).toContain('drop default');
    expect(made.stderr).toContain(warning);
    expect(made.stderr).not.toContain('migrate refuses'); // a warning: migrate applies it
  });

  it('creates a table with a foreign key to another service and records the dependency', async () => {
    ws.write(
      'apps/catalog-service/src/db/models/review.ts',
      `import { defineEntity, p } from '@mikro-orm/core';
import { User } from '@tributary/auth-service/models';
import { Product } from './product.ts';

export const Review = defineEntity({
  name: 'Review',
  properties: {
    id: p.integer().primary().autoincrement(),
    product: () => p.manyToOne(Product).deleteRule('cascade'),
    author: () => p.manyToOne(User),
    stars: p.smallint(),
    body: p.text().nullable(),
  },
  indexes: [{ properties: ['product', 'author'] }],
});
`,
    );
    const [catalog] = await roundTrip('add review', ['catalog-service']);
    const source = ws.read(`migrations/${catalog}`);
    // Django's rule: the referenced service's newest migration when this one was written.
    const authNewest = ws.migrations().filter((f) => f.includes('_auth-service_')).at(-1)!.slice(0, -3);
    expect(source).toContain(`'${authNewest}'`);
    expect(source).toContain('references "user" ("id")');
    expect(made.stderr).not.toContain('data loss'); // a new table loses nothing
  });

  it('drops a table whose model was removed', async () => {
    ws.remove('apps/catalog-service/src/db/models/review.ts');
    const [catalog] = await roundTrip('drop review', ['catalog-service']);
    expect(ws.read(`migrations/${catalog}`)).toContain('drop table if exists "review"');
    expect(made.stderr).toContain('⚠ data loss [drop-table]');
  });

  it('makemigrations --service emits only that service, even when others changed too', async () => {
    ws.edit('apps/auth-service/src/db/models/user.ts', "locale: p.string().length(10).nullable().index(),", "locale: p.string().length(10).nullable().index(),\n    timezone: p.string().length(64).nullable(),");
    ws.edit('apps/billing-service/src/db/models/invoice.ts', 'issuedAt: p.datetime().nullable(),', 'issuedAt: p.datetime().nullable(),\n    dueAt: p.datetime().nullable(),');
    const before = ws.migrations();
    await cli('makemigrations', '--service', 'auth-service', '-m', 'add timezone');
    const created = ws.migrations().filter((f) => !before.includes(f));
    expect(created).toHaveLength(1);
    expect(created[0]).toMatch(/_auth-service_add_timezone\.ts$/);
    const source = ws.read(`migrations/${created[0]}`);
    expect(source).toContain('"timezone"');
    expect(source).not.toMatch(/invoice|due_at/);

    const check = await ws.migrate(['check', '--offline'], env);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('Service billing-service has model changes without a migration');
    expect(check.stderr).not.toContain('auth-service has model changes');

    await cli('makemigrations', '-m', 'add due date');
    expect(ws.migrations().filter((f) => !before.includes(f))).toHaveLength(2);
    await cli('migrate');
    expect(await schemaOf()).toEqual(await expected());
    expect((await cli('check')).stdout).toContain('Check passed');
  });
});
