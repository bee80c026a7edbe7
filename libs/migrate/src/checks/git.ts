/** What changed in the migrations folder since a git revision (for `--since REV` in CI). */
import { execFileSync } from 'node:child_process';
import { relative } from 'node:path';
import { TributaryError } from '../errors.ts';
import { parseFileName } from '../stream/naming.ts';

export interface StreamChanges {
  added: string[];
  modified: string[];
  deleted: string[];
}

export function streamChangesSince(root: string, migrationsDir: string, rev: string): StreamChanges {
  const folder = relative(root, migrationsDir) || '.';
  let output: string;
  try {
    execFileSync('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd: root, stdio: 'pipe' });
    output = execFileSync('git', ['diff', '--name-status', '--no-renames', rev, '--', folder], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    // New files not committed (nor staged) yet are added too: `git diff` alone does not see them.
    const untracked = execFileSync('git', ['ls-files', '--others', '--exclude-standard', '--', folder], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    output += untracked.split('\n').filter(Boolean).map((path) => `A\t${path}\n`).join('');
  } catch {
    throw new TributaryError(`--since ${rev}: not a git revision in ${root}.`);
  }
  const changes: StreamChanges = { added: [], modified: [], deleted: [] };
  for (const line of output.split('\n')) {
    const [status, path] = line.split('\t');
    const file = path?.split('/').pop();
    if (!status || !file || !parseFileName(file)) continue;
    if (status.startsWith('A')) changes.added.push(file.slice(0, -3));
    else if (status.startsWith('D')) changes.deleted.push(file.slice(0, -3));
    else changes.modified.push(file.slice(0, -3));
  }
  return changes;
}
