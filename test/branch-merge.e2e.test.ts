/**
 * Branch merges: two branches each add a migration for one service. Each writes a shard file of its
 * own (`.snapshots/<service>/<migration>.json`) and deletes the one they started from, so git
 * merges them without a conflict; the merged stream's shard is rebuilt from the stream, `check`
 * names the migrations written against the same parent state, and both changes apply.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { scratchWorkspace, type Workspace } from './support/workspace.ts';

let ws: Workspace;
let db: TestDatabase;
const git = (...args: string[]) => execFileSync('git', args, { cwd: ws.dir, encoding: 'utf8', stdio: 'pipe' });
const SHARDS = 'migrations/.snapshots/auth-service';
// Superseded shard files are emptied, not deleted (see diff/snapshot.ts).
const shardFiles = () => readdirSync(ws.path(SHARDS)).filter((f) => statSync(ws.path(SHARDS, f)).size > 0).sort();
const onlyShard = () => {
  expect(shardFiles()).toHaveLength(1);
  return `${SHARDS}/${shardFiles()[0]}`;
};
const slugs = (names: string[]) => names.map((n) => n.split('_').slice(3).join('_'));

beforeAll(async () => {
  ws = scratchWorkspace();
  db = await createTestDatabase();
  ws.write('.gitignore', 'node_modules\n.data\n');
  git('init', '-q', '-b', 'main');
  git('-c', 'user.email=t@t', '-c', 'user.name=t', 'add', '.');
  git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'base');
});

afterAll(async () => {
  ws?.dispose();
  await db?.drop();
});

const commit = (message: string) => {
  git('add', '-A', '.');
  git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', message);
};

describe('merging two branches that both changed one service', () => {
  it('merges without a git conflict, rebuilds the shard from both, names the divergence, and applies both columns', async () => {
    git('checkout', '-qb', 'feature-a');
    ws.edit('apps/auth-service/src/db/models/user.ts', 'displayName: p.string().length(120),', 'displayName: p.string().length(120),\n    avatarUrl: p.text().nullable(),');
    expect((await ws.migrate(['makemigrations', '-m', 'avatar'])).code).toBe(0);
    expect(slugs(JSON.parse(ws.read(onlyShard())).migrations)).toEqual(['initial', 'avatar']);
    commit('a');

    git('checkout', '-q', 'main');
    git('checkout', '-qb', 'feature-b');
    ws.edit('apps/auth-service/src/db/models/session.ts', 'revokedAt: p.datetime().nullable(),', 'revokedAt: p.datetime().nullable(),\n    ipAddress: p.string().length(45).nullable(),');
    await new Promise((r) => setTimeout(r, 1100)); // a later timestamp, as on another day
    expect((await ws.migrate(['makemigrations', '-m', 'session ip'])).code).toBe(0);
    commit('b');

    git('checkout', '-q', 'main');
    git('merge', '-q', '--no-edit', 'feature-a');
    // Any conflict would throw here (git exits 1).
    git('-c', 'user.email=t@t', '-c', 'user.name=t', 'merge', '-q', '--no-edit', 'feature-b');
    expect(git('status', '--porcelain')).toBe('');
    // One shard file per branch, each knowing its own migration only.
    const branchShards = shardFiles().map((f) => slugs(JSON.parse(ws.read(`${SHARDS}/${f}`)).migrations));
    expect(branchShards).toEqual([['initial', 'avatar'], ['initial', 'session_ip']]);

    const verify = await ws.migrate(['makemigrations', '--check']);
    expect(verify.stderr + verify.stdout).toContain('No model changes without a migration');
    expect(verify.code).toBe(0);
    // the replay takes a while: it says first what it rebuilds and why
    expect(verify.stderr).toContain('Rebuilding the snapshot shard of auth-service (2 shard files: branches that each added a migration were merged) by replaying the stream…');

    const check = await ws.migrate(['check', '--offline', '--json']);
    expect(check.code).toBe(0);
    const report = JSON.parse(check.stdout);
    const [avatar, sessionIp] = ws.migrations().filter((f) => !f.includes('initial')).map((f) => f.slice(0, -3));
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatchObject({ kind: 'diverged', service: 'auth-service' });
    expect(report.warnings[0].message).toContain(`migrations ${avatar} and ${sessionIp} were written on different branches against the same parent state (after 20261123_130022_auth-service_initial)`);
    expect(report.warnings[0].message).toContain('`migrate makemigrations --check` must be clean');
    expect((await ws.migrate(['check', '--offline'])).stderr).toContain(`⚠ Service auth-service: migrations ${avatar} and ${sessionIp}`);

    const migrated = await ws.migrate(['migrate'], { DATABASE_URL: db.url });
    expect(migrated.code, migrated.stderr).toBe(0);
    const columns = await db.query(`select table_name || '.' || column_name as c from information_schema.columns where column_name in ('avatar_url', 'ip_address') order by 1`);
    expect(columns.map((r) => r.c)).toEqual(['session.ip_address', 'user.avatar_url']);

    // makemigrations records the combined shard: one file, both migrations, and check is quiet again.
    const recorded = await ws.migrate(['makemigrations']);
    expect(recorded.stdout).toContain('No changes detected');
    expect(slugs(JSON.parse(ws.read(onlyShard())).migrations)).toEqual(['initial', 'avatar', 'session_ip']);
    expect(JSON.parse((await ws.migrate(['check', '--offline', '--json'])).stdout).warnings).toEqual([]);
  });

  it('a shard whose migration was edited (its checksum changed) is rebuilt, and the next change diffs against the edited SQL', async () => {
    const newest = ws.migrations().at(-1)!;
    // A reviewer widens the generated column by hand.
    ws.edit(`migrations/${newest}`, '"ip_address" varchar(45) null', '"ip_address" varchar(64) null');
    // Read-only runs for another service: the first replays the stream (it needs every shard), the next ones reuse that replay.
    const first = await ws.migrate(['makemigrations', '--dry-run', '--service', 'catalog-service']);
    expect(first.stdout).toContain('No changes detected');
    expect(first.stderr).toContain(`Rebuilding the snapshot shard of auth-service (${newest.slice(0, -3)} was edited after its shard was written) by replaying the stream… (\`makemigrations\` writes the rebuilt shard)`);
    const again = await ws.migrate(['makemigrations', '--dry-run', '--service', 'catalog-service']);
    expect(again.stdout).toContain('No changes detected');
    expect(again.stderr).not.toContain('Rebuilding');
    expect((await ws.migrate(['makemigrations', '--check'])).code).toBe(1); // the models still say 45
    const dry = await ws.migrate(['makemigrations', '--dry-run']);
    expect(dry.stderr).not.toContain('Rebuilding');
    expect(dry.stdout).toContain('alter column "ip_address" type varchar(45)'); // the reused shard holds the edited SQL
    ws.edit(`migrations/${newest}`, '"ip_address" varchar(64) null', '"ip_address" varchar(45) null');
    // The stream changed back: what was replayed from the edited one is not reused.
    const reverted = await ws.migrate(['makemigrations', '--dry-run']);
    expect(reverted.stdout).toContain('No changes detected');
  });

  it('a shard that lags behind the stream is rebuilt too, and the next change diffs against it', async () => {
    const file = onlyShard();
    const shard = JSON.parse(ws.read(file));
    shard.migrations = shard.migrations.slice(0, 1); // as if a migration arrived without its shard update
    ws.write(file, JSON.stringify(shard));
    ws.edit('apps/auth-service/src/db/models/api-key.ts', 'secretHash: p.string().length(128),', 'secretHash: p.string().length(128),\n    revoked: p.boolean().default(false),');
    const before = ws.migrations();
    expect((await ws.migrate(['makemigrations', '-m', 'revoke keys'])).code).toBe(0);
    const created = ws.migrations().filter((f) => !before.includes(f));
    expect(created).toHaveLength(1);
    const source = ws.read(`migrations/${created[0]}`);
    expect(source).toContain('alter table "api_key" add "revoked" boolean not null default false');
    expect(source).not.toMatch(/avatar_url|ip_address/);
    expect(slugs(JSON.parse(ws.read(onlyShard())).migrations)).toEqual(['initial', 'avatar', 'session_ip', 'revoke_keys']);
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
