/**
 * `migrate drift` and drift inside `check`, with the real CLI on the example services: changes
 * made by hand on PostgreSQL are reported per service with the SQL that undoes them (and running
 * that SQL leaves no drift), unowned tables are listed apart, pending migrations are not drift,
 * and the embedded PGlite database is compared the same way.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectDrift } from '../libs/migrate/src/checks/drift.ts';
import { loadConfig } from '../libs/migrate/src/config/config.ts';
import { openDatabase } from '../libs/migrate/src/db/connection.ts';
import { workspaceWithDatabase } from './support/fixture.ts';
import { migrationSource as migration } from './support/migrations.ts';

const { ws, db, env } = workspaceWithDatabase({ migrated: true });

const driftJson = async (args: string[] = []) => {
  const result = await ws.migrate(['drift', '--json', ...args], env);
  return { code: result.code, report: JSON.parse(result.stdout) };
};

describe('migrate drift on PostgreSQL', () => {
  it('reports no drift on an untouched database, and not the history table', async () => {
    const text = await ws.migrateOk(['drift'], env);
    expect(text.stdout).toContain('auth-service: no drift');
    expect(text.stdout).toContain('No drift.');
    const { code, report } = await driftJson();
    expect(code).toBe(0);
    expect(report.services.map((s: any) => [s.service, s.status])).toEqual([['auth-service', 'clean'], ['billing-service', 'clean'], ['catalog-service', 'clean']]);
    expect(report.unowned).toEqual([]);
    // Remembered: the next comparison of this schema and these shards skips the introspection (the next tests change both).
    expect(existsSync(ws.path('node_modules/.cache/tributary/clean-drift.json'))).toBe(true);
  });

  // Drift made by hand is undone while drift reads the schema (right after the catalog's version
  // is first taken): the reading sees a clean schema, but the digest may be of the drifted one.
  // Remembered, that digest would answer "clean" once the same drift is made again.
  for (const memoBefore of ['none', 'stale'] as const) {
    it(`does not remember a clean comparison when the schema changed while it was read (memo before: ${memoBefore})`, async () => {
      const memo = ws.path('node_modules/.cache/tributary/clean-drift.json');
      rmSync(memo, { force: true });
      if (memoBefore === 'stale') writeFileSync(memo, JSON.stringify({ fingerprint: 'of another schema' }));
      await db.query(`alter table "user" add column "nickname" text`);
      const config = loadConfig({ cwd: ws.dir, databaseUrl: db.url });
      const database = await openDatabase(config);
      const query = database.session.query.bind(database.session);
      let undone = false;
      database.session.query = async (sql, params) => {
        const rows = await query(sql, params);
        if (!undone && sql.includes(`'pg_class ' || count(*)`)) {
          undone = true;
          await db.query(`alter table "user" drop column "nickname"`);
        }
        return rows;
      };
      try {
        const report = await detectDrift(database, config);
        expect(undone).toBe(true);
        expect(report.ok).toBe(true); // what it read
        expect(JSON.parse(existsSync(memo) ? readFileSync(memo, 'utf8') : '{}').fingerprint ?? 'none').toBe(memoBefore === 'none' ? 'none' : 'of another schema');
      } finally {
        await database.close();
      }
      await db.query(`alter table "user" add column "nickname" text`);
      try {
        const { code, report } = await driftJson();
        expect(code).toBe(1);
        expect(report.services.find((s: any) => s.service === 'auth-service').findings.map((f: any) => [f.kind, f.object, f.name])).toEqual([['extra', 'column', 'nickname']]);
      } finally {
        await db.query(`alter table "user" drop column "nickname"`);
      }
      // Unchanged while read, the same comparison is remembered.
      await ws.migrateOk(['drift'], env);
      expect(JSON.parse(readFileSync(memo, 'utf8')).fingerprint).not.toBe('of another schema');
    });
  }

  it('reports a column added, an index dropped and a default changed by hand, each with the SQL that undoes it', async () => {
    await db.query(`alter table "user" add column "nickname" text`);
    await db.query(`drop index "session_expires_at_index"`);
    await db.query(`alter table "product" alter column "active" set default false`);

    const { code, report } = await driftJson();
    expect(code).toBe(1);
    const [auth, billing, catalog] = report.services;
    expect(billing.status).toBe('clean');
    expect(auth.findings.map((f: any) => [f.kind, f.object, f.table, f.name, f.sql])).toEqual([
      ['missing', 'index', 'public.session', 'session_expires_at_index', ['create index "session_expires_at_index" on "session" ("expires_at");']],
      ['extra', 'column', 'public.user', 'nickname', ['alter table "user" drop column "nickname";']],
    ]);
    expect(catalog.findings).toEqual([
      expect.objectContaining({ kind: 'changed', object: 'column', table: 'public.product', name: 'active', sql: ['alter table "product" alter column "active" set default true;'] }),
    ]);
    expect(catalog.findings[0].detail).toBe('column active on public.product differs: default false in the database, true in the stream');

    const text = await ws.migrate(['drift', '--service', 'auth-service'], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('+ index session_expires_at_index on public.session is missing');
    expect(text.stdout).toContain('- column nickname (text null) on public.user is not in the stream');
    expect(text.stdout).toContain('    alter table "user" drop column "nickname";');
    expect(text.stdout).not.toContain('catalog-service');

    const check = await ws.migrate(['check', '--json'], env);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout).problems.filter((p: any) => p.kind === 'drift').map((p: any) => p.service)).toEqual(['auth-service', 'catalog-service']);

    // The SQL it prints is what brings the database back.
    for (const service of [auth, catalog]) for (const sql of service.sql) await db.query(sql);
    expect((await driftJson()).report.ok).toBe(true);
    expect((await ws.migrate(['check'], env)).code).toBe(0);
  });

  // Drift first compares each service's serialised tables with its shard and calls MikroORM's
  // comparator only where they differ: a change that only shows in one property must still be drift.
  it('reports changes that alter one property only: nullability, a length, a unique constraint, a foreign key rule', async () => {
    await db.query(`alter table "product" alter column "name" drop not null`);
    await db.query(`alter table "product" alter column "sku" type varchar(80)`);
    await db.query(`alter table "product" drop constraint "product_sku_unique"`);
    const fk = (await db.query(`select conname from pg_constraint where conrelid = 'product'::regclass and contype = 'f'`))[0].conname;
    await db.query(`alter table "product" drop constraint "${fk}", add constraint "${fk}" foreign key ("category_id") references "category" ("id") on delete cascade`);

    const { code, report } = await driftJson(['--service', 'catalog-service']);
    expect(code).toBe(1);
    expect(report.services[0].findings.map((f: any) => [f.kind, f.object, f.name])).toEqual(
      expect.arrayContaining([['changed', 'column', 'name'], ['changed', 'column', 'sku'], ['missing', 'constraint', 'product_sku_unique'], ['changed', 'constraint', fk]]),
    );
    for (const sql of report.services[0].sql) await db.query(sql);
    expect((await driftJson()).report.ok).toBe(true);
  });

  it('lists a table no service owns as unowned, not as drift; pending migrations are not drift either', async () => {
    await db.query(`create table "stray" ("id" int)`);
    const text = await ws.migrate(['drift'], env);
    expect(text.code, text.stdout).toBe(0);
    expect(text.stdout).toContain("Unowned tables (no service's migrations created them; not drift): public.stray");

    ws.write('migrations/20300101_000001_catalog-service_add_weight.ts', migration(['alter table "product" add column "weight" int null'], { service: 'catalog-service' }));
    const { code, report } = await driftJson();
    expect(code).toBe(0);
    expect(report.unowned).toEqual(['public.stray']);
    expect(report.services.find((s: any) => s.service === 'catalog-service')).toMatchObject({ status: 'pending', note: '1 pending migration: not compared until applied (pending migrations are not drift).' });
    ws.remove('migrations/20300101_000001_catalog-service_add_weight.ts');
  });

  it("remembers a clean comparison only of what it compares: a trigger function's new body is drift", async () => {
    const file = 'migrations/20300101_000002_catalog-service_touch.ts';
    const body = (fn: string) => `create or replace function "product_touch_fn"() returns trigger language plpgsql as $$ begin new.name := ${fn}(new.name); return new; end; $$`;
    ws.write(file, migration([body('upper'), `create trigger "touch" before update on "product" for each row execute function "product_touch_fn"()`], { service: 'catalog-service' }));
    try {
      await ws.migrateOk(['migrate'], env);
      await ws.migrateOk(['drift'], env); // clean, and remembered
      expect(existsSync(ws.path('node_modules/.cache/tributary/clean-drift.json'))).toBe(true);
      await db.query(body('lower'));
      const { code, report } = await driftJson(); // the same question as the remembered one
      expect(code).toBe(1);
      expect(report.services.find((s: any) => s.service === 'catalog-service').findings.map((f: any) => [f.kind, f.object, f.name])).toEqual([['changed', 'trigger', 'touch']]);
    } finally {
      await db.query(`drop trigger if exists "touch" on "product"`);
      await db.query(`drop function if exists "product_touch_fn"()`);
      await db.query(`delete from "tributary_migrations" where "name" = '20300101_000002_catalog-service_touch'`);
      ws.remove(file);
    }
  });

  it('--json names an unknown service in one JSON document', async () => {
    const result = await ws.migrate(['drift', '--json', '--service', 'nope'], env);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({ error: expect.stringContaining('nope') });
  });
});

describe('migrate drift on the embedded PGlite database', () => {
  it('compares it the same way: no drift after migrate', async () => {
    expect((await ws.migrate(['migrate'])).code).toBe(0);
    const memo = ws.path('node_modules/.cache/tributary/clean-drift.json');
    rmSync(memo, { force: true });
    const result = await ws.migrate(['drift']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain('Using embedded PGlite');
    expect(result.stdout).toContain('No drift.');
    expect(existsSync(memo)).toBe(true); // the catalog's digest and version work on PGlite too
  });
});
