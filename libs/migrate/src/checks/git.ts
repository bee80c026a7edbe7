/**
 * What changed in the migrations folder on this branch since it left a git revision (for
 * `--since REV` in CI): the working tree against `git merge-base REV HEAD`, so that migrations
 * REV gained after the branch point are neither "deleted" nor "added" here.
 */
import { execFileSync } from 'node:child_process';
import { relative } from 'node:path';
import { TributaryError } from '../errors.ts';
import { parseFileName } from '../stream/naming.ts';

export interface StreamChanges {
  /** The commit compared with: where HEAD's history meets REV's. */
  base: string;
  added: string[];
  modified: string[];
  deleted: string[];
}

export function streamChangesSince(root: string, migrationsDir: string, rev: string): StreamChanges {
  const folder = relative(root, migrationsDir) || '.';
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: 'pipe' });
  try {
    git('rev-parse', '--verify', '--quiet', `${rev}^{commit}`);
  } catch {
    throw new TributaryError(`--since ${rev}: not a git revision in ${root}.`);
  }
  let base: string;
  try {
    base = git('merge-base', rev, 'HEAD').trim();
  } catch {
    throw new TributaryError(`--since ${rev}: it shares no history with HEAD (no merge base), so there is no branch point to compare with.`);
  }
  // Committed, staged and unstaged changes since the branch point; new files not added to git yet count as added too.
  let output = git('diff', '--name-status', '--no-renames', base, '--', folder);
  const untracked = git('ls-files', '--others', '--exclude-standard', '--', folder);
  output += untracked.split('\n').filter(Boolean).map((path) => `A\t${path}\n`).join('');
  const changes: StreamChanges = { base, added: [], modified: [], deleted: [] };
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
