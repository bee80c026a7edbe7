/**
 * The embedded PGlite database's files: whether they exist, how messages name the database, and
 * creating them. A new database is unpacked from a pre-built, empty cluster shipped with the
 * package for the installed PGlite version (~0.3 s); without one, PGlite runs its own initdb
 * (~4 s of CPU and ~1 GB of memory). This module loads nothing heavy, so a process can say
 * what it is about to do before it imports the ORM.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import type { TributaryConfig } from '../config/config.ts';
import { parsePostgresUrl } from './urls.ts';

export function describeTarget(config: TributaryConfig): string {
  if (!config.databaseUrl) return `embedded PGlite (${relative(config.root, config.pgliteDir) || config.pgliteDir})`;
  const url = parsePostgresUrl(config.databaseUrl, config.databaseUrlSource);
  return `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname}`;
}

export function embeddedDatabaseExists(config: TributaryConfig): boolean {
  return existsSync(`${config.pgliteDir}/PG_VERSION`);
}

/**
 * Keeps PGlite's WebAssembly on V8's baseline code (Liftoff) for the rest of the process: hot
 * functions are no longer recompiled, optimised, in the background, which costs ~0.5–1.5 s of CPU
 * and ~500 MB of peak memory on every open and pays back only in a long-lived process. Call it
 * before PGlite loads (the budget is read when a module compiles); the CLI and `npm start` do.
 */
export function keepWasmOnBaselineCode(): void {
  setFlagsFromString(`--wasm-tiering-budget=${2 ** 31 - 1}`); // the largest: 10⁹ runs out while applying a schema
}

/** The installed PGlite's version: its pre-built cluster is `assets/pglite-<version>.tar.gz`. */
export function pgliteVersion(): string {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  return JSON.parse(readFileSync(join(dirname(entry), '../package.json'), 'utf8')).version;
}

export function templateFile(version = pgliteVersion()): string {
  return fileURLToPath(new URL(`../../assets/pglite-${version}.tar.gz`, import.meta.url));
}

/**
 * Creates the embedded database unless it exists, by unpacking the pre-built cluster: into a
 * sibling folder first, renamed into place, so a crash never leaves half a database behind. Call
 * it holding the database's lock. Without a cluster for the installed PGlite it does nothing, and
 * opening the folder runs initdb.
 */
export function ensureEmbeddedDatabase(config: TributaryConfig): void {
  const template = templateFile();
  if (embeddedDatabaseExists(config) || !existsSync(template)) return;
  const dataDir = config.pgliteDir;
  const staging = `${dataDir}.creating-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    unpackTar(process.getBuiltinModule('node:zlib').gunzipSync(readFileSync(template)), staging); // zlib loaded only to unpack
    rmSync(dataDir, { recursive: true, force: true }); // an empty folder left by an earlier attempt
    renameSync(staging, dataDir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Writes the directories and regular files of a ustar archive (what PGlite's `dumpDataDir`
 * writes) under `into`. PGlite's own `loadDataDir` does the same through its WebAssembly file
 * system, at twice the cost.
 */
function unpackTar(tar: Buffer, into: string): void {
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header[0] === 0) break; // the two empty blocks that end the archive
    const field = (start: number, length: number) => header.toString('latin1', start, start + length).replace(/\0[\s\S]*$/, '');
    const prefix = field(345, 155);
    const name = join(into, prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    if (relative(into, name).startsWith('..')) throw new Error(`The embedded database template has an entry outside its folder: ${name}`);
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156]!);
    offset += 512;
    if (type === '5') mkdirSync(name, { recursive: true });
    else if (type === '0' || type === '\0') {
      mkdirSync(dirname(name), { recursive: true });
      writeFileSync(name, tar.subarray(offset, offset + size));
    }
    offset += Math.ceil(size / 512) * 512;
  }
}
