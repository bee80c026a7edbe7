/**
 * Remembers the checksums of migration files that loaded and passed validation, so that `check`
 * over a long stream imports only the files it has not seen yet. A file's checksum covers every
 * byte of it, and the validator's own source is part of the key, so a remembered file is still
 * valid. Kept in node_modules/.cache (never committed); losing it only costs time.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';

/** The rules a remembered file passed: the loader's source and this file's (`.js` once built). */
const VALIDATOR = createHash('sha256')
  .update(readFileSync(join(import.meta.dirname, `migration-file${extname(import.meta.filename)}`)))
  .update(readFileSync(import.meta.filename))
  .digest('hex');

export class ValidatedFiles {
  readonly #file: string | undefined;
  readonly #checksums: Set<string>;
  #changed = false;

  private constructor(file: string | undefined, checksums: Iterable<string>) {
    this.#file = file;
    this.#checksums = new Set(checksums);
  }

  /** The remembered checksums of the workspace at `root` (none where there is no node_modules). */
  static open(root: string): ValidatedFiles {
    const modules = join(root, 'node_modules');
    if (!existsSync(modules)) return new ValidatedFiles(undefined, []);
    const file = join(modules, '.cache', 'tributary', 'validated-migrations.json');
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      return new ValidatedFiles(file, saved.validator === VALIDATOR && Array.isArray(saved.checksums) ? saved.checksums : []);
    } catch {
      return new ValidatedFiles(file, []);
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

  /** Writes what was added, keeping only checksums of files still in the stream (`current`). */
  save(current: Iterable<string>): void {
    if (!this.#file || !this.#changed) return;
    const keep = new Set(current);
    const checksums = [...this.#checksums].filter((c) => keep.has(c));
    try {
      mkdirSync(dirname(this.#file), { recursive: true });
      // Write then rename: a check running alongside (nx run-many) never reads half a file.
      const temporary = `${this.#file}.${process.pid}`;
      writeFileSync(temporary, JSON.stringify({ validator: VALIDATOR, checksums }));
      renameSync(temporary, this.#file);
    } catch {
      // A read-only node_modules only means the next check imports the files again.
    }
  }
}
