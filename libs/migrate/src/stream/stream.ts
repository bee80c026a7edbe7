/**
 * Reads the stream: every file of the migrations folder whose name matches the contract, in
 * name order, with its service and checksum. Files are read, never imported, so listing
 * thousands of migrations stays cheap; `loadMigrationClass` imports one when it must run.
 */
import { createHash, hash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, type Stats } from 'node:fs';
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
  // Most files have no CR: hash their bytes as they are (the same digest, without two copies; one call).
  if (Buffer.isBuffer(bytes) && !bytes.includes(13)) return hash('sha256', bytes, 'hex');
  const text = Buffer.isBuffer(bytes) ? bytes.toString('latin1') : bytes;
  return createHash('sha256').update(text.replaceAll('\r\n', '\n'), Buffer.isBuffer(bytes) ? 'latin1' : 'utf8').digest('hex');
}

/** The bytes each entry of the last `readStream` was made from, until the loader takes them (no second read). */
const bytesRead = new WeakMap<StreamEntry, Buffer>();

export function readStream(migrationsDir: string): StreamEntry[] {
  if (!existsSync(migrationsDir)) return [];
  const entries: StreamEntry[] = [];
  for (const file of readdirSync(migrationsDir).sort()) {
    const parsed = parseFileName(file);
    if (!parsed) continue;
    const path = join(migrationsDir, file);
    const bytes = readFileSync(path);
    const entry = streamEntry(parsed, path, bytes);
    bytesRead.set(entry, bytes);
    entries.push(entry);
  }
  return entries;
}

/** The bytes `readStream` hashed into `entry.checksum`, once (then forgotten); undefined for an entry read otherwise. */
export function takeBytesRead(entry: StreamEntry): Buffer | undefined {
  const bytes = bytesRead.get(entry);
  bytesRead.delete(entry);
  return bytes;
}

/** A file's bytes and its stat, from one open file: four system calls where stat + read take five. */
export function readWithStat(path: string): { bytes: Buffer; stat: Stats } {
  const fd = openSync(path, 'r');
  try {
    const stat = fstatSync(fd);
    const bytes = Buffer.allocUnsafe(stat.size);
    let read = 0;
    while (read < bytes.length) {
      const n = readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) break; // shortened meanwhile: the stamp then no longer matches, and it is read again
      read += n;
    }
    return { bytes: bytes.subarray(0, read), stat };
  } finally {
    closeSync(fd);
  }
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
