/**
 * The benchmark's PostgreSQL databases: a template holding an empty history table (made by
 * Tributary's own History), fresh copies of it for every timed run, and bulk history rows for
 * streams that are recorded as applied without running them.
 */
import pg from 'pg';
import { loadConfig } from '../../libs/migrate/src/config/config.ts';
import { withDatabase } from '../../libs/migrate/src/db/connection.ts';
import { History } from '../../libs/migrate/src/db/history.ts';
import { readStream } from '../../libs/migrate/src/stream/stream.ts';
import { HISTORY } from './streams.ts';

export const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const urlOf = (name: string) => ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
const PREFIX = `tributary_bench_${process.pid}`;
const created = new Set<string>();

export async function sql<T = any>(url: string, text: string, params?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params as any[])).rows;
  } finally {
    await client.end();
  }
}

export const databaseName = (suffix: string) => `${PREFIX}_${suffix}`;

/** A fresh database (dropped first if it exists), optionally a copy of `template`. */
export async function freshDatabase(suffix: string, template?: string): Promise<string> {
  const name = databaseName(suffix);
  await sql(ADMIN_URL, `drop database if exists "${name}" with (force)`);
  await sql(ADMIN_URL, `create database "${name}"${template ? ` template "${template}"` : ''}`);
  created.add(name);
  return name;
}

/** Creates Tributary's (empty) history table in the database at `url`. */
export async function createHistoryTable(workspace: string, url: string): Promise<void> {
  const config = loadConfig({ cwd: workspace, databaseUrl: url });
  await withDatabase(config, (db) => new History(db, config).ensureTable());
}

/** A template database with Tributary's history table and nothing else. */
export async function historyTemplate(workspace: string): Promise<string> {
  const name = await freshDatabase('template');
  await createHistoryTable(workspace, urlOf(name));
  return name;
}

/** Records every migration of the workspace's stream as applied, without running any (those already applied stay as they are). */
export async function recordWholeStream(workspace: string, database: string): Promise<number> {
  return recordWholeStreamAt(workspace, urlOf(database));
}

/** The same, in the database at `url` (on any server). */
export async function recordWholeStreamAt(workspace: string, url: string): Promise<number> {
  const config = loadConfig({ cwd: workspace, databaseUrl: url });
  await withDatabase(config, (db) => new History(db, config).ensureTable());
  const stream = readStream(config.migrationsDir);
  await sql(
    url,
    `insert into ${HISTORY} ("name", "service", "checksum", "status") select * from unnest($1::text[], $2::text[], $3::text[], $4::text[]) on conflict ("name") do nothing`,
    [stream.map((e) => e.name), stream.map((e) => e.service), stream.map((e) => e.checksum), stream.map(() => 'applied')],
  );
  return stream.length;
}

export async function appliedCount(database: string): Promise<number> {
  const [row] = await sql(urlOf(database), `select count(*)::int as "n" from ${HISTORY} where "status" = 'applied'`);
  return row.n;
}

export async function serverVersion(): Promise<string> {
  const [row] = await sql(ADMIN_URL, 'show server_version');
  return String(row.server_version);
}

export async function dropAll(): Promise<void> {
  for (const name of created) await sql(ADMIN_URL, `drop database if exists "${name}" with (force)`).catch(() => {});
  created.clear();
}

/**
 * Between scenarios: drops the databases made so far and forces a checkpoint, so that the next
 * figure does not pay for the last one's aftermath (autovacuum analysing the 10,000 or 40,000
 * tables of the long-stream run, their dirty buffers written out).
 */
export async function settleServer(): Promise<void> {
  await dropAll();
  await sql(ADMIN_URL, 'checkpoint');
}
