/**
 * The stream as a long-running app reads it (the boot check, then `/health` on every request),
 * and as `check` reads it in its several parts: a file's checksum is remembered and computed
 * again only when the file is new or its size, modification time, change time or inode changed,
 * so a request costs one directory listing and one `stat` per migration instead of reading and
 * hashing every file. Same entries as `readStream`. The boot check also keeps what it remembered
 * in node_modules/.cache, so an app's next start reads only the files changed since.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { cacheFile, saveCache } from './checksum-memo.ts';
import { parseFileName } from './naming.ts';
import { readWithStat, streamEntry, type StreamEntry } from './stream.ts';

interface Remembered {
  /** Size, mtime, ctime and inode: any write or replacement changes one — the kernel sets ctime, no tool can put it back. */
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  entry: StreamEntry;
}

/** Per migrations folder, per file name. */
const remembered = new Map<string, Map<string, Remembered>>();
let hashed = 0;

/** How many migration files this process has read and hashed so far (for tests and benchmarks). */
export function migrationFilesHashed(): number {
  return hashed;
}

// Times as numbers in milliseconds to ~0.1 µs (a double): a number stat costs about half a bigint one.
const unchanged = (known: Remembered, stat: Stats) =>
  known.size === stat.size && known.mtimeMs === stat.mtimeMs && known.ctimeMs === stat.ctimeMs && known.ino === stat.ino;

/** What one thread knows of a migrations folder's files, to hand to another (`streamStamps`, `adoptStreamStamps`). */
export type StreamStamps = Array<[string, Remembered]>;

/** This thread's stamps and checksums of `migrationsDir` (empty before it read the folder). */
export function streamStamps(migrationsDir: string): StreamStamps {
  return [...(remembered.get(migrationsDir) ?? [])];
}

/**
 * Takes another thread's stamps of `migrationsDir` as this thread's own (unless it read the folder
 * itself): its files are then read again only where their stat changed since.
 */
export function adoptStreamStamps(migrationsDir: string, stamps: StreamStamps): void {
  if (!remembered.has(migrationsDir)) remembered.set(migrationsDir, new Map(stamps));
}

const SAVED = 'stream-stamps';
/** Bump when the saved layout changes: an older file is then ignored (the files are read). */
const SAVED_VERSION = 2;

/** What an earlier process remembered of `migrationsDir` (saved by `readStreamCached` with `keepIn`). */
function savedStamps(root: string, migrationsDir: string): Map<string, Remembered> {
  const file = cacheFile(root, SAVED);
  const known = new Map<string, Remembered>();
  if (!file || !existsSync(file)) return known;
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    if (saved.version !== SAVED_VERSION || saved.dir !== migrationsDir || !Array.isArray(saved.files)) return known;
    for (const [fileName, name, service, size, mtimeMs, ctimeMs, ino, checksum, replaces] of saved.files) {
      const entry: StreamEntry = { name, service, file: `${migrationsDir}${sep}${fileName}`, checksum, ...(replaces ? { replaces } : {}) };
      known.set(fileName, { size, mtimeMs, ctimeMs, ino, entry });
    }
  } catch {
    known.clear(); // unreadable: read the files
  }
  return known;
}

/** Per `withOneStreamRead` scope: the entries read, per migrations folder, and the bytes read for them (gone with the scope). */
interface Snapshot {
  read: Map<string, StreamEntry[]>;
  bytes: Map<StreamEntry, Buffer>;
}
const snapshots = new AsyncLocalStorage<Snapshot>();

/**
 * Runs `fn` with the stream read once per folder: every `readStreamCached` inside it (across
 * awaits) gets the entries of the first. One command's parts (`check`: models, integrity, drift)
 * then judge the same files, and a long stream is listed and stat'ed once, not once per part.
 */
export function withOneStreamRead<T>(fn: () => T): T {
  return snapshots.run({ read: new Map(), bytes: new Map() }, fn);
}

/** Within a `withOneStreamRead` scope, the bytes hashed into `entry.checksum` if this scope read the file, once. */
export function takeBytesReadInScope(entry: StreamEntry): Buffer | undefined {
  const bytes = snapshots.getStore()?.bytes;
  const taken = bytes?.get(entry);
  bytes?.delete(entry);
  return taken;
}

/**
 * The stream's entries; `keepIn` (a workspace root) also keeps the stamps and checksums in its
 * node_modules/.cache for the next process (the boot check).
 */
export function readStreamCached(migrationsDir: string, keepIn?: string): StreamEntry[] {
  const snapshot = snapshots.getStore();
  const read = snapshot?.read.get(migrationsDir);
  if (read) return [...read];
  const entries = readAndStamp(migrationsDir, keepIn);
  snapshot?.read.set(migrationsDir, entries);
  return [...entries];
}

function readAndStamp(migrationsDir: string, keepIn?: string): StreamEntry[] {
  if (!existsSync(migrationsDir)) return [];
  const before = remembered.get(migrationsDir) ?? (keepIn ? savedStamps(keepIn, migrationsDir) : new Map<string, Remembered>());
  const now = new Map<string, Remembered>(); // files that are gone are forgotten
  const entries: StreamEntry[] = [];
  const hashedBefore = hashed;
  for (const file of readdirSync(migrationsDir).sort()) {
    let known = before.get(file);
    // A file seen before is stat'ed and read again only if it changed; a new one is read with its stat.
    const path = `${migrationsDir}${sep}${file}`;
    if (!known || !unchanged(known, statSync(path))) {
      const parsed = parseFileName(file);
      if (!parsed) continue;
      hashed++;
      const { bytes, stat } = readWithStat(path);
      known = { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, entry: streamEntry(parsed, path, bytes) };
      // Within one command, what it validates next (each file's shape) takes these bytes, not a second read.
      snapshots.getStore()?.bytes.set(known.entry, bytes);
    }
    now.set(file, known);
    entries.push(known.entry);
  }
  remembered.set(migrationsDir, now);
  const file = keepIn && (hashed > hashedBefore || now.size !== before.size) ? cacheFile(keepIn, SAVED) : undefined;
  if (file) {
    const files = [...now].map(([fileName, { size, mtimeMs, ctimeMs, ino, entry }]) => [fileName, entry.name, entry.service, size, mtimeMs, ctimeMs, ino, entry.checksum, entry.replaces]);
    saveCache(file, { version: SAVED_VERSION, dir: migrationsDir, files });
  }
  return entries;
}
