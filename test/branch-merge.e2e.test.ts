/**
 * Branch merges: two branches each add a migration for one service; after the merge the shard
 * conflicts or lags behind the stream. makemigrations rebuilds it from the stream (replayed into
 * an in-memory PGlite) instead of making the conflict the user's problem.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchWorkspace, type Workspace } from './support/workspace.ts';

let ws: Workspace;
const git = (...args: string[]) => execFileSync('git', args, { cwd: ws.dir, encoding: 'utf8', stdio: 'pipe' });
const SHARD = 'migrations/.snapshots/auth-service.json';

beforeAll(() => {
  ws = scratchWorkspace();
  ws.write('.gitignore', 'node_modules\n.data\n');
  git('init', '-q', '-b', 'main');
  git('-c', 'user.email=t@t', '-c', 'user.name=t', 'add', '.');
  git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'base');
});

afterAll(() => ws?.dispose());

const commit = (message: string) => {
  git('add', '.');
  git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', message);
};

describe('merging two branches that both changed one service', () => {
  it('rebuilds a conflicted shard and finds no phantom changes', async () => {
    git('checkout', '-qb', 'feature-a');
    ws.edit('apps/auth-service/src/db/models/user.ts', 'displayName: p.string().length(120),', 'displayName: p.string().length(120),\n    avatarUrl: p.text().nullable(),');
    expect((await ws.migrate(['makemigrations', '-m', 'avatar'])).code).toBe(0);
    commit('a');

    git('checkout', '-q', 'main');
    git('checkout', '-qb', 'feature-b');
    ws.edit('apps/auth-service/src/db/models/session.ts', 'revokedAt: p.datetime().nullable(),', 'revokedAt: p.datetime().nullable(),\n    ipAddress: p.string().length(45).nullable(),');
    await new Promise((r) => setTimeout(r, 1100)); // a later timestamp, as on another day
    expect((await ws.migrate(['makemigrations', '-m', 'session ip'])).code).toBe(0);
    commit('b');

    git('checkout', '-q', 'main');
    git('merge', '-q', '--no-edit', 'feature-a');
    let conflicted = false;
    try {
      git('-c', 'user.email=t@t', '-c', 'user.name=t', 'merge', '-q', '--no-edit', 'feature-b');
    } catch {
      conflicted = true;
    }
    expect(conflicted).toBe(true);
    expect(ws.read(SHARD)).toContain('<<<<<<<');
    // The models merged cleanly; only the derived shard conflicts.
    expect(ws.read('apps/auth-service/src/db/models/user.ts')).toContain('avatarUrl');

    const result = await ws.migrate(['makemigrations']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('No changes detected');
    const shard = JSON.parse(ws.read(SHARD));
    expect(shard.migrations).toHaveLength(3);
    expect(shard.migrations.map((n: string) => n.split('_').slice(3).join('_'))).toEqual(['initial', 'avatar', 'session_ip']);
    expect((await ws.migrate(['check', '--offline'])).code).toBe(0);
  });

  it('a shard that lags behind the stream is rebuilt too, and the next change diffs against it', async () => {
    const shard = JSON.parse(ws.read(SHARD));
    shard.migrations = shard.migrations.slice(0, 1); // as if a migration arrived without its shard update
    ws.write(SHARD, JSON.stringify(shard));
    ws.edit('apps/auth-service/src/db/models/api-key.ts', 'secretHash: p.string().length(128),', 'secretHash: p.string().length(128),\n    revoked: p.boolean().default(false),');
    const before = ws.migrations();
    expect((await ws.migrate(['makemigrations', '-m', 'revoke keys'])).code).toBe(0);
    const created = ws.migrations().filter((f) => !before.includes(f));
    expect(created).toHaveLength(1);
    const source = ws.read(`migrations/${created[0]}`);
    expect(source).toContain('alter table "api_key" add "revoked" boolean not null default false');
    expect(source).not.toMatch(/avatar_url|ip_address/);
  });

  it('check --since REV fails when a committed migration was edited or deleted', async () => {
    commit('merged');
    const [first, second] = ws.migrations();
    expect((await ws.migrate(['check', '--offline', '--since', 'HEAD'])).code).toBe(0);
    ws.edit(`migrations/${first}`, 'export class', '// tweak\nexport class');
    ws.remove(`migrations/${second}`);
    const result = await ws.migrate(['check', '--offline', '--since', 'HEAD', '--json']);
    expect(result.code).toBe(1);
    const kinds = JSON.parse(result.stdout).problems.map((p: any) => [p.kind, p.migration]);
    expect(kinds).toContainEqual(['edited-since', first!.slice(0, -3)]);
    expect(kinds).toContainEqual(['deleted-since', second!.slice(0, -3)]);
    const bad = await ws.migrate(['check', '--offline', '--since', 'no-such-rev']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--since no-such-rev: not a git revision');
  });
});
