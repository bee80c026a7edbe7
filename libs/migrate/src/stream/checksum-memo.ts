/**
 * Remembers the checksums of migration files that passed one check (they loaded and validated;
 * nothing lint could refuse is in them), so a command over a long stream does that work only for
 * the files it has not seen yet. A checksum covers every byte of a file, and the sources of the
 * rules it passed are part of the key, so a remembered file still passes. Kept in
 * node_modules/.cache (never committed); losing it only costs time.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A key for the rules a check applies: the digest of the files (and versions) that define them. */
export function rulesKey(...parts: Array<string | Buffer>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** The folder where a workspace keeps what Tributary remembers (undefined where there is no node_modules). */
export function cacheDir(root: string): string | undefined {
  const modules = join(root, 'node_modules');
  return existsSync(modules) ? join(modules, '.cache', 'tributary') : undefined;
}

/** Where a workspace keeps the remembered file `name` (undefined where there is no node_modules). */
export function cacheFile(root: string, name: string): string | undefined {
  const dir = cacheDir(root);
  return dir && join(dir, `${name}.json`);
}

/** Writes `value` as JSON to `file`, then renames it in place: a process running alongside never reads half a file. */
export function saveCache(file: string, value: unknown): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}`;
    writeFileSync(temporary, JSON.stringify(value));
    renameSync(temporary, file);
  } catch {
    // A read-only node_modules only means the next process does the work again.
  }
}

export class ChecksumMemo {
  readonly #file: string | undefined;
  readonly #rules: string;
  readonly #checksums: Set<string>;
  #changed = false;

  private constructor(file: string | undefined, rules: string, checksums: Iterable<string>) {
    this.#file = file;
    this.#rules = rules;
    this.#checksums = new Set(checksums);
  }

  /** The checksums remembered as `name` in the workspace at `root` under `rules` (none where there is no node_modules). */
  static open(root: string, name: string, rules: string): ChecksumMemo {
    const file = cacheFile(root, name);
    if (!file) return new ChecksumMemo(undefined, rules, []);
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      return new ChecksumMemo(file, rules, saved.rules === rules && Array.isArray(saved.checksums) ? saved.checksums : []);
    } catch {
      return new ChecksumMemo(file, rules, []);
    }
  }

  has(checksum: string): boolean {
    return this.#checksums.has(checksum);
  }

  add(checksum: string): void {
    if (this.#checksums.has(checksum)) return;
    this.#checksums.add(checksum);
    this.#changed = true;
  }

  /** Writes what was added, keeping only checksums of files still in the stream (`current`, when given). */
  save(current?: Iterable<string>): void {
    if (!this.#file || !this.#changed) return;
    const keep = current && new Set(current);
    const checksums = keep ? [...this.#checksums].filter((c) => keep.has(c)) : [...this.#checksums];
    saveCache(this.#file, { rules: this.#rules, checksums });
  }
}
