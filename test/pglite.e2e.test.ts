/**
 * The embedded default: without DATABASE_URL every command uses PGlite in .data/pglite/, the
 * same flow as on PostgreSQL gives MikroORM's schema, and a second process is refused clearly.
 */
import { writeFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceSchema } from './support/reference.ts';
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

/** Opens the embedded database after the CLI has exited (it is single-process). */
async function embeddedSchema(): Promise<string[]> {
  const pglite = await PGlite.create({ dataDir: ws.path('.data/pglite') });
  try {
    return await describeSchema(async (sql) => (await pglite.query(sql)).rows as any[]);
  } finally {
    await pglite.close();
  }
}

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
