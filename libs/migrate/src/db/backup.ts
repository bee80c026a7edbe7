/**
 * Backups of the whole database as plain SQL, written before migrating (`migrate --backup`) to
 * `.data/backups/<timestamp>.sql`, and restored (`migrate restore FILE`) so that the database —
 * data, schema and history table alike — is exactly what it was when the backup was taken.
 * PostgreSQL goes through `pg_dump`/`psql`; PGlite through `@electric-sql/pglite-tools`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { TributaryConfig } from '../config/config.ts';
import { TributaryError, describeError } from '../errors.ts';
import type { Database } from './connection.ts';

const run = promisify(execFile);

export function backupsDir(config: TributaryConfig): string {
  return join(config.root, '.data', 'backups');
}

/** `20261123_130623.sql`, or `20261123_130623_2.sql` when two backups share a second. */
function nextBackupFile(dir: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  for (let n = 1; ; n++) {
    const file = join(dir, n === 1 ? `${stamp}.sql` : `${stamp}_${n}.sql`);
    if (!existsSync(file)) return file;
  }
}

/** Dumps the database into a new file under `.data/backups/` and returns its path. */
export async function backupDatabase(db: Database, config: TributaryConfig): Promise<string> {
  const dir = backupsDir(config);
  mkdirSync(dir, { recursive: true });
  const file = nextBackupFile(dir);
  let sql: string;
  try {
    sql = db.kind === 'postgresql' ? await dumpPostgres(config.databaseUrl!) : await dumpPglite(db);
  } catch (error) {
    throw new TributaryError(`Backup of ${db.label} failed, so nothing was migrated: ${describeError(error)}`, { cause: error });
  }
  writeFileSync(file, sql);
  return file;
}

async function dumpPostgres(url: string): Promise<string> {
  try {
    const { stdout } = await run('pg_dump', ['--dbname', url, '--no-owner', '--no-privileges'], { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('pg_dump is not installed or not on PATH');
    throw new Error(((error as { stderr?: string }).stderr || describeError(error)).trim());
  }
}

async function dumpPglite(db: Database): Promise<string> {
  const { pgDump } = await import('@electric-sql/pglite-tools/pg_dump');
  const pglite = await (db.connection as unknown as { getNativeClient(): Promise<any> }).getNativeClient();
  // INSERTs rather than COPY … FROM stdin: PGlite replays the file with exec(), which has no stdin.
  const dump = await pgDump({ pg: pglite, args: ['--no-owner', '--no-privileges', '--inserts'] });
  return dump.text();
}

/**
 * Replaces every user schema of the database with the backup's content, in one transaction:
 * objects created after the backup disappear, and a failed restore changes nothing.
 */
export async function restoreDatabase(db: Database, config: TributaryConfig, file: string): Promise<void> {
  const where = relative(process.cwd(), file) || file;
  if (!existsSync(file)) throw new TributaryError(`Backup ${where} does not exist.`);
  const sql = readFileSync(file, 'utf8');
  if (!/^-- PostgreSQL database dump/m.test(sql)) throw new TributaryError(`${where} is not a pg_dump SQL file (written by \`migrate --backup\`).`);
  const schemas = await db.session.query<{ name: string }>(
    `select nspname as "name" from pg_namespace where nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and nspname not like 'pg\\_%'`,
  );
  const wipe = schemas
    .map(({ name }) => `drop schema "${name.replaceAll('"', '""')}" cascade;`)
    .concat('create schema public authorization pg_database_owner;', 'grant usage on schema public to public;')
    .join('\n');
  try {
    if (db.kind === 'postgresql') await restorePostgres(config.databaseUrl!, wipe, file);
    else await restorePglite(db, wipe, sql);
  } catch (error) {
    throw new TributaryError(`Restore of ${where} into ${db.label} failed; the database was left as it was: ${describeError(error)}`, { cause: error });
  }
}

async function restorePostgres(url: string, wipe: string, file: string): Promise<void> {
  try {
    await run('psql', ['--dbname', url, '--no-psqlrc', '--quiet', '--single-transaction', '-v', 'ON_ERROR_STOP=1', '-c', wipe, '-f', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('psql is not installed or not on PATH');
    throw new Error(((error as { stderr?: string }).stderr || describeError(error)).trim());
  }
}

async function restorePglite(db: Database, wipe: string, sql: string): Promise<void> {
  const pglite = await (db.connection as unknown as { getNativeClient(): Promise<any> }).getNativeClient();
  // psql meta-commands (\restrict, \connect …) mean nothing to PGlite's exec().
  const script = sql.split('\n').filter((line) => !line.startsWith('\\')).join('\n');
  await pglite.transaction(async (tx: { exec(sql: string): Promise<unknown> }) => {
    await tx.exec(wipe);
    await tx.exec(script);
  });
}
