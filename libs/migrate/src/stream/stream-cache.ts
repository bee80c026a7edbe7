/**
 * The stream as a long-running app reads it (the boot check, then `/health` on every request),
 * and as `check` reads it in its several parts: a file's checksum is remembered and computed again only when the file is new or its size,
 * modification time or inode changed, so a request costs one directory listing and one `stat`
 * per migration instead of reading and hashing every file. Same entries as `readStream`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseFileName } from './naming.ts';
import { streamEntry, type StreamEntry } from './stream.ts';

interface Remembered {
  /** Size, mtime, ctime (nanoseconds) and inode: any write or replacement changes one. */
  stamp: string;
  entry: StreamEntry;
}

/** Per migrations folder, per file path. */
const remembered = new Map<string, Map<string, Remembered>>();
let hashed = 0;

/** How many migration files this process has read and hashed so far (for tests and benchmarks). */
export function migrationFilesHashed(): number {
  return hashed;
}

export function readStreamCached(migrationsDir: string): StreamEntry[] {
  if (!existsSync(migrationsDir)) return [];
  const before = remembered.get(migrationsDir) ?? new Map<string, Remembered>();
  const now = new Map<string, Remembered>(); // files that are gone are forgotten
  const entries: StreamEntry[] = [];
  for (const file of readdirSync(migrationsDir).sort()) {
    const parsed = parseFileName(file);
    if (!parsed) continue;
    const path = join(migrationsDir, file);
    const stat = statSync(path, { bigint: true });
    const stamp = `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}`;
    let known = before.get(path);
    if (known?.stamp !== stamp) {
      hashed++;
      known = { stamp, entry: streamEntry(parsed, path, readFileSync(path)) };
    }
    now.set(path, known);
    entries.push(known.entry);
  }
  remembered.set(migrationsDir, now);
  return entries;
}
