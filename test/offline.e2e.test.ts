/**
 * makemigrations and `check --offline` need no database: they work with DATABASE_URL pointing
 * nowhere, while commands that need the database fail with one sentence naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchWorkspace, type Workspace } from './support/workspace.ts';

let ws: Workspace;
const env = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' };

beforeAll(() => {
  ws = scratchWorkspace();
});

afterAll(() => ws?.dispose());

describe('without a reachable database', () => {
  it('check --offline passes on the committed stream', async () => {
    const result = await ws.migrate(['check', '--offline'], env);
    expect(result.stdout).toContain('Check passed');
    expect(result.code).toBe(0);
  });

  it('makemigrations --check and check --offline fail on a model change, makemigrations fixes it', async () => {
    ws.edit('apps/billing-service/src/db/models/customer.ts', "taxId: p.string().length(32).nullable(),", "taxId: p.string().length(32).nullable(),\n    vatExempt: p.boolean().default(false),");
    const makeCheck = await ws.migrate(['makemigrations', '--check'], env);
    expect(makeCheck.code).toBe(1);
    // Says what differs: the first statement the migration would hold.
    expect(makeCheck.stderr).toContain('Service billing-service has model changes without a migration (alter table "customer" add "vat_exempt" boolean not null default false).');
    expect(ws.migrations()).toHaveLength(3);

    const check = await ws.migrate(['check', '--offline', '--json'], env);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: false, problems: [{ kind: 'model-changes', service: 'billing-service' }], database: { checked: false } });
    expect(JSON.parse(check.stdout).problems[0].message).toBe('Service billing-service has model changes without a migration (alter table "customer" add "vat_exempt" boolean not null default false): run `migrate makemigrations --service billing-service`.');

    const made = await ws.migrate(['makemigrations', '-m', 'vat exempt'], env);
    expect(made.code).toBe(0);
    expect(ws.migrations()).toHaveLength(4);
    expect((await ws.migrate(['check', '--offline'], env)).code).toBe(0);
  });

  it('says on stderr that it is loading the models once that takes over a second; --json stdout stays one document', async () => {
    const slow = scratchWorkspace();
    try {
      // a model whose import takes 1.5 s: as many model files on a slow machine
      slow.edit('apps/catalog-service/src/db/models/category.ts', "import { defineEntity", "await new Promise((resolve) => setTimeout(resolve, 1500));\nimport { defineEntity");
      const result = await slow.migrate(['check', '--offline', '--json'], env);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('Loading the models of 3 services…');
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: true });
    } finally {
      slow.dispose();
    }
  });

  it('commands that need the database name it in one sentence', async () => {
    for (const command of [['migrate'], ['showmigrations'], ['check']]) {
      const result = await ws.migrate(command, env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('error: Cannot connect to PostgreSQL 127.0.0.1:1/nowhere');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('an invalid DATABASE_URL is a clear error', async () => {
    const result = await ws.migrate(['migrate'], { DATABASE_URL: 'not a url' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DATABASE_URL is not a valid URL');
  });

  // A model reads a length from another file of the service; that file changes later.
  it.each([
    { how: 'a file the models import', shared: 'lengths', constant: 'NAME_LENGTH', model: 'product', after: "import { Category } from './category.ts';", specifier: '../lengths.ts', property: 'name: p.string().length(200),', length: 200 },
    { how: 'one imported as a bundler writes it (../slugs.js loads slugs.ts)', shared: 'slugs', constant: 'SLUG_LENGTH', model: 'category', after: "import { defineEntity, p } from '@mikro-orm/core';", specifier: '../slugs.js', property: 'slug: p.string().length(80).unique(),', length: 80 },
  ])('a clean check is remembered, but never past a change in $how', async ({ shared, constant, model, after, specifier, property, length }) => {
    const sharedFile = `apps/catalog-service/src/db/${shared}.ts`;
    const modelFile = `apps/catalog-service/src/db/models/${model}.ts`;
    ws.write(sharedFile, `export const ${constant} = ${length};\n`);
    ws.edit(modelFile, after, `${after}\nimport { ${constant} } from '${specifier}';`);
    ws.edit(modelFile, property, property.replace(String(length), constant));
    expect((await ws.migrate(['check', '--offline'], env)).code).toBe(0);
    expect((await ws.migrate(['check', '--offline'], env)).code).toBe(0); // from the remembered clean check
    ws.write(sharedFile, `export const ${constant} = ${length + 16};\n`);
    const changed = await ws.migrate(['check', '--offline'], env);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain('Service catalog-service has model changes without a migration');
    ws.write(sharedFile, `export const ${constant} = ${length};\n`);
    expect((await ws.migrate(['check', '--offline'], env)).code).toBe(0);
  });
});
