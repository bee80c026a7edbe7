/**
 * The checksums of migration files that loaded and passed validation (see checksum-memo.ts), so
 * that `check` over a long stream imports only the files it has not seen yet; the loader's source
 * and this file's are the rules they passed.
 */
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ChecksumMemo, rulesKey } from './checksum-memo.ts';

/** The rules a remembered file passed: the loader's source and this file's (`.js` once built); read when first needed. */
let validator: string | undefined;

export const ValidatedFiles = {
  open: (root: string): ChecksumMemo =>
    ChecksumMemo.open(root, 'validated-migrations', (validator ??= rulesKey(readFileSync(join(import.meta.dirname, `migration-file${extname(import.meta.filename)}`)), readFileSync(import.meta.filename)))),
};
