/**
 * `node tools/pglite-template.ts`: builds the empty embedded database that new workspaces unpack
 * instead of running initdb (libs/migrate/assets/pglite-<version>.tar.gz, see db/embedded.ts).
 * Run it after upgrading @electric-sql/pglite, and commit the file it writes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { pgliteVersion, templateFile } from '../libs/migrate/src/db/embedded.ts';

const scratch = mkdtempSync(join(tmpdir(), 'pglite-template-'));
try {
  const dataDir = join(scratch, 'pglite');
  const db = await PGlite.create({ dataDir });
  await db.query('checkpoint');
  await db.close(); // a clean shutdown: opening the copy replays no WAL
  const out = templateFile();
  for (const stale of readdirSync(join(out, '..')).filter((f) => f.startsWith('pglite-') && f.endsWith('.tar.gz'))) rmSync(join(out, '..', stale));
  // ustar, the format db/embedded.ts reads; sorted, with fixed owners and times.
  const tar = execFileSync('tar', ['--format=ustar', '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=2000-01-01', '-cf', '-', '-C', dataDir, '.'], { maxBuffer: 256 * 1024 * 1024 });
  writeFileSync(out, gzipSync(tar, { level: 9 }));
  process.stdout.write(`wrote ${relative(process.cwd(), out)} (PGlite ${pgliteVersion()})\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
