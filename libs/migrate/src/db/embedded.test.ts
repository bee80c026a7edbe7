/**
 * Creating the embedded database: a new one is the cluster shipped for the installed PGlite,
 * unpacked (not an initdb of its own), PGlite opens it as it is, and an existing one is left alone.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TributaryConfig } from '../config/config.ts';
import { embeddedDatabaseExists, ensureEmbeddedDatabase, pgliteVersion, templateFile } from './embedded.ts';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-embedded-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const configAt = (name: string) => ({ root: dir, pgliteDir: join(dir, name) }) as TributaryConfig;

async function inspect(dataDir: string): Promise<{ systemId: string; databases: string[]; tables: number }> {
  const pglite = await PGlite.create({ dataDir });
  try {
    const [control] = (await pglite.query<{ id: string }>('select system_identifier::text as id from pg_control_system()')).rows;
    const databases = (await pglite.query<{ datname: string }>('select datname from pg_database order by datname')).rows.map((r) => r.datname);
    const [count] = (await pglite.query<{ n: number }>("select count(*)::int as n from pg_tables where schemaname = 'public'")).rows;
    return { systemId: control!.id, databases, tables: count!.n };
  } finally {
    await pglite.close();
  }
}

describe('the embedded database', () => {
  it('ships a pre-built cluster for the PGlite version it depends on', () => {
    expect(existsSync(templateFile()), `run node tools/pglite-template.ts after upgrading PGlite (${pgliteVersion()})`).toBe(true);
  });

  it('is created by unpacking that cluster: two new databases are copies of it, not two initdb runs', async () => {
    const first = configAt('first/pglite');
    const second = configAt('second/pglite');
    ensureEmbeddedDatabase(first);
    ensureEmbeddedDatabase(second);
    expect(embeddedDatabaseExists(first) && embeddedDatabaseExists(second)).toBe(true);
    expect(existsSync(`${first.pgliteDir}.creating-${process.pid}`)).toBe(false);
    const a = await inspect(first.pgliteDir);
    const b = await inspect(second.pgliteDir);
    expect(a.databases).toEqual(['postgres', 'template0', 'template1']);
    expect(a.systemId).toBe(b.systemId); // initdb draws a new system identifier every time
  });

  it('leaves an existing database as it is', async () => {
    const config = configAt('kept/pglite');
    ensureEmbeddedDatabase(config);
    const pglite = await PGlite.create({ dataDir: config.pgliteDir });
    await pglite.exec('create table kept (id int)');
    await pglite.close();
    ensureEmbeddedDatabase(config);
    expect((await inspect(config.pgliteDir)).tables).toBe(1);
  });

  it('replaces an empty folder left by an interrupted first open', async () => {
    const config = configAt('interrupted/pglite');
    mkdirSync(config.pgliteDir, { recursive: true });
    ensureEmbeddedDatabase(config);
    expect((await inspect(config.pgliteDir)).databases).toContain('postgres');
  });
});
