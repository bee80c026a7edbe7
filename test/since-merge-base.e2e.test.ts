/**
 * `check --since REV` and `lint --since REV` compare the branch with where it left REV
 * (`git merge-base REV HEAD`), not with REV itself: a branch behind main does not see main's
 * newer migrations as deleted, while its own edits and new files (committed or not) still count.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationSource as migration } from './support/migrations.ts';
import { scratchWorkspace, type Workspace } from './support/workspace.ts';

let ws: Workspace;
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: ws.dir, encoding: 'utf8', stdio: 'pipe' });
const commit = (message: string) => {
  git('add', '.');
  git('commit', '-qm', message);
};

const ON_MAIN = '20300101_000000_auth-service_on_main';
const ON_BRANCH = '20300102_000000_auth-service_on_branch';
const UNCOMMITTED = '20300103_000000_billing-service_uncommitted';
let initial: string;

beforeAll(() => {
  ws = scratchWorkspace();
  ws.write('.gitignore', 'node_modules\n.data\n');
  initial = ws.migrations()[0]!.slice(0, -3);
  git('init', '-q', '-b', 'main');
  commit('base');
  git('checkout', '-qb', 'feature');
  // main moves on after the branch point
  git('checkout', '-q', 'main');
  ws.write(`migrations/${ON_MAIN}.ts`, migration(['select 1']));
  commit('main gains a migration');
  git('checkout', '-q', 'feature');
  ws.write(`migrations/${ON_BRANCH}.ts`, migration(['select 2']));
  commit('the branch adds one');
  ws.write(`migrations/${UNCOMMITTED}.ts`, migration(['select 3'], { service: 'billing-service' }));
  ws.edit(`migrations/${initial}.ts`, 'export class', '// edited on the branch\nexport class');
});

afterAll(() => ws?.dispose());

describe('--since REV on a branch behind REV', () => {
  it("check does not report main's newer migration as deleted; the branch's edit still counts", async () => {
    const result = await ws.migrate(['check', '--offline', '--since', 'main', '--json']);
    const problems = JSON.parse(result.stdout).problems.map((p: { kind: string; migration?: string }) => [p.kind, p.migration]);
    expect(problems).not.toContainEqual(['deleted-since', ON_MAIN]);
    expect(problems.filter(([kind]: string[]) => kind === 'deleted-since')).toEqual([]);
    expect(problems).toContainEqual(['edited-since', initial]);
    expect(result.code).toBe(1);
  });

  it('lint lints what the branch added, committed or not, and not what main added', async () => {
    const result = await ws.migrate(['lint', '--since', 'main', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).migrations).toEqual([ON_BRANCH, UNCOMMITTED]);
  });

  it('a revision with no common history is one clear sentence', async () => {
    const emptyTree = git('hash-object', '-t', 'tree', '/dev/null').trim();
    git('branch', 'unrelated', git('commit-tree', emptyTree, '-m', 'unrelated root').trim());
    const result = await ws.migrate(['check', '--offline', '--since', 'unrelated']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--since unrelated: it shares no history with HEAD');
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});
