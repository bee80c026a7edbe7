/**
 * Backups of the whole database as plain SQL, written before migrating (`migrate --backup`) to
 * `.data/backups/<timestamp>.sql`, and restored (`migrate restore FILE`) so that the database —
 * data, schema and history table alike — is exactly what it was when the backup was taken.
 * PostgreSQL goes through `pg_dump`/`psql`; PGlite through `@electric-sql/pglite-tools`.
 */
import { execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { TributaryConfig } from '../config/config.ts';
import { TributaryError, describeError, shownPath } from '../errors.ts';
import type { Database } from './connection.ts';

const run = promisify(execFile);

/** Backups hold the data: only their owner may read them. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

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
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const file = nextBackupFile(dir);
  // Written under another name and renamed when complete: a failed dump leaves no backup that looks whole.
  const partial = `${file}.partial`;
  try {
    if (db.kind === 'postgresql') await dumpPostgres(config.databaseUrl!, partial);
    else writeFileSync(partial, await dumpPglite(db), { mode: FILE_MODE });
    renameSync(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    throw new TributaryError(`Backup of ${db.label} failed, so nothing was migrated: ${describeError(error)}`, { cause: error });
  }
  return file;
}

export interface ClientCommand {
  command: string;
  args: string[];
  /** Added to the environment: the password travels here (libpq's PGPASSWORD), never in argv, which `ps` shows. */
  env: Record<string, string>;
}

/**
 * The connection string without its password, and the password apart: URLs
 * (`postgres://user:secret@host/db`, `?password=`) and key/value strings (`password=secret`).
 */
export function withoutPassword(connection: string): { dbname: string; password?: string } {
  if (/^postgres(ql)?:\/\//i.test(connection)) {
    const url = new URL(connection);
    const password = url.password ? decodeURIComponent(url.password) : (url.searchParams.get('password') ?? undefined);
    url.password = '';
    url.searchParams.delete('password');
    return { dbname: url.href, ...(password !== undefined ? { password } : {}) };
  }
  const keyValue = /(^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)/i.exec(connection);
  if (!keyValue) return { dbname: connection };
  const raw = keyValue[2]!;
  const password = raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  return { dbname: connection.replace(keyValue[0], '').trim(), password };
}

function clientCommand(command: string, url: string, args: string[]): ClientCommand {
  const { dbname, password } = withoutPassword(url);
  return { command, args: ['--dbname', dbname, ...args], env: password === undefined ? {} : { PGPASSWORD: password } };
}

export function pgDumpCommand(url: string): ClientCommand {
  return clientCommand('pg_dump', url, ['--no-owner', '--no-privileges']);
}

export function psqlRestoreCommand(url: string, wipe: string, file: string): ClientCommand {
  return clientCommand('psql', url, ['--no-psqlrc', '--quiet', '--single-transaction', '-v', 'ON_ERROR_STOP=1', '-c', wipe, '-f', file]);
}

/** pg_dump's output goes straight to the file (a dump may be larger than memory). */
async function dumpPostgres(url: string, file: string): Promise<void> {
  const { command, args, env } = pgDumpCommand(url);
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 64 * 1024) stderr += chunk;
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  try {
    await Promise.all([pipeline(child.stdout, createWriteStream(file, { mode: FILE_MODE })), exited]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && (error as NodeJS.ErrnoException).syscall?.startsWith('spawn')) throw new Error('pg_dump is not installed or not on PATH');
    throw error;
  }
  const code = await exited;
  if (code !== 0) throw new Error(stderr.trim() || `pg_dump exited with code ${code}`);
}

async function dumpPglite(db: Database): Promise<string> {
  const { pgDump } = await import('@electric-sql/pglite-tools/pg_dump');
  const pglite = await pgliteOf(db);
  const session = (await pglite.query(`select name, current_setting(name) as value from pg_settings where source = 'session' and name not like 'transaction\\_%'`)).rows as Array<{ name: string; value: string }>;
  try {
    // INSERTs rather than COPY … FROM stdin: PGlite replays the file with exec(), which has no stdin.
    const dump = await pgDump({ pg: pglite, args: ['--no-owner', '--no-privileges', '--inserts'] });
    return await dump.text();
  } finally {
    // pg_dump ran on PGlite's one session and never disconnected: its REPEATABLE READ, READ ONLY
    // transaction is still open and its SETs (row_security, search_path, …) still hold. Put the
    // session back as it was, or the migrations that follow run read-only.
    await pglite.exec('rollback; reset all;');
    for (const { name, value } of session) await pglite.query('select set_config($1, $2, false)', [name, value]);
  }
}

/**
 * Replaces every user schema of the database with the backup's content, in one transaction:
 * objects created after the backup disappear, and a failed restore changes nothing.
 */
export async function restoreDatabase(db: Database, config: TributaryConfig, file: string): Promise<void> {
  const where = shownPath(file);
  const sql = readBackup(file);
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

/** The backup's SQL; refused, naming the file, when it is missing or not written by pg_dump. */
export function readBackup(file: string): string {
  if (!existsSync(file)) throw new TributaryError(`Backup ${shownPath(file)} does not exist.`);
  const sql = readFileSync(file, 'utf8');
  if (!/^-- PostgreSQL database dump/m.test(sql)) throw new TributaryError(`${shownPath(file)} is not a pg_dump SQL file (written by \`migrate --backup\`).`);
  return sql;
}

async function restorePostgres(url: string, wipe: string, file: string): Promise<void> {
  const { command, args, env } = psqlRestoreCommand(url, wipe, file);
  try {
    await run(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('psql is not installed or not on PATH');
    throw new Error(((error as { stderr?: string }).stderr || describeError(error)).trim());
  }
}

/** The PGlite instance: the one this run opened, or the one under an app's ORM. */
async function pgliteOf(db: Database): Promise<any> {
  return db.pglite ?? (db.connection as unknown as { getNativeClient(): Promise<any> }).getNativeClient();
}

async function restorePglite(db: Database, wipe: string, sql: string): Promise<void> {
  const pglite = await pgliteOf(db);
  // psql meta-commands (\restrict, \connect …) mean nothing to PGlite's exec().
  const script = sql.split('\n').filter((line) => !line.startsWith('\\')).join('\n');
  await pglite.transaction(async (tx: { exec(sql: string): Promise<unknown> }) => {
    await tx.exec(wipe);
    await tx.exec(script);
  });
}
