/**
 * Reads the stream: every file of the migrations folder whose name matches the contract, in
 * name order, with its service and checksum. Files are read, never imported, so listing
 * thousands of migrations stays cheap; `loadMigrationClass` imports one when it must run.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TributaryError } from '../errors.ts';
import { parseFileName } from './naming.ts';

export interface StreamEntry {
  /** File name without `.ts`; the migration's identity and sort key. */
  name: string;
  service: string;
  file: string;
  checksum: string;
  /** A squash: the names of the migrations it stands for (its `static replaces`, read from the text). */
  replaces?: string[];
}

/** The entry of a stream file, given its bytes. */
export function streamEntry(parsed: { name: string; service: string }, file: string, bytes: Buffer): StreamEntry {
  const entry: StreamEntry = { name: parsed.name, service: parsed.service, file, checksum: checksumOf(bytes) };
  if (bytes.includes('static replaces')) entry.replaces = replacesIn(bytes.toString('utf8'));
  return entry;
}

/**
 * The names a squash file's `static replaces = ['…', …]` lists, read from its text so that the
 * stream's plan is known without importing a file (the loader checks that the class agrees).
 */
export function replacesIn(code: string): string[] {
  const list = /static\s+replaces\s*(?::\s*string\[\]\s*)?=\s*\[([^\]]*)\]/.exec(code)?.[1] ?? '';
  return [...list.matchAll(/['"]([^'"]+)['"]/g)].map((m) => m[1]!.replace(/\.ts$/, ''));
}

/** sha256 of the file's bytes with CRLF normalised to LF, lowercase hex. */
export function checksumOf(bytes: Buffer | string): string {
  // Most files have no CR: hash their bytes as they are (the same digest, without two copies).
  if (Buffer.isBuffer(bytes) && !bytes.includes(13)) return createHash('sha256').update(bytes).digest('hex');
  const text = Buffer.isBuffer(bytes) ? bytes.toString('latin1') : bytes;
  return createHash('sha256').update(text.replaceAll('\r\n', '\n'), Buffer.isBuffer(bytes) ? 'latin1' : 'utf8').digest('hex');
}

export function readStream(migrationsDir: string): StreamEntry[] {
  if (!existsSync(migrationsDir)) return [];
  const entries: StreamEntry[] = [];
  for (const file of readdirSync(migrationsDir).sort()) {
    const parsed = parseFileName(file);
    if (!parsed) continue;
    const path = join(migrationsDir, file);
    entries.push(streamEntry(parsed, path, readFileSync(path)));
  }
  return entries;
}

/**
 * Script files in the folder that do not follow the naming contract, so are not in the stream:
 * a typo'd timestamp, or MikroORM's own `Migration20261123113328.ts` naming.
 */
export function strayFiles(migrationsDir: string): string[] {
  if (!existsSync(migrationsDir)) return [];
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((item) => item.isFile() && /\.[cm]?[jt]s$/.test(item.name) && !item.name.endsWith('.d.ts') && !parseFileName(item.name))
    .map((item) => item.name)
    .sort();
}

/** What `check` reports, and `migrate`/`showmigrations` warn, about a stray file. */
export function strayFileMessage(root: string, migrationsDir: string, file: string): string {
  return `${relative(root, join(migrationsDir, file))} does not follow the <YYYYMMDD>_<HHMMSS>_<service>_<slug>.ts naming, so it is not part of the stream.`;
}

export function streamRelative(root: string, entry: { file: string }): string {
  return relative(root, entry.file);
}

export function findEntry(stream: StreamEntry[], name: string, flag: string): StreamEntry {
  const entry = stream.find((e) => e.name === name || `${e.name}.ts` === name);
  if (!entry) throw new TributaryError(`${flag} ${name}: no migration of that name in the stream.`);
  return entry;
}
