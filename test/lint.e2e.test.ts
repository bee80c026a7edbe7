/**
 * `migrate lint` and lint inside `check`, with the real CLI: pending migrations on PostgreSQL,
 * every migration when there is no database, newly added files with `--since REV` (git).
 */
import { describe, expect, it } from 'vitest';
import { migrationSource as migration } from './support/migrations.ts';
import { workspaceFixture, workspaceWithDatabase } from './support/fixture.ts';

const DROP = 'migrations/20300101_000001_auth-service_drop_display_name.ts';
const INDEX = 'migrations/20300101_000002_auth-service_index_role.ts';

const { ws, env } = workspaceWithDatabase({ migrated: true });

describe('migrate lint on pending migrations', () => {
  it('passes when nothing is pending', async () => {
    const result = await ws.migrate(['lint'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Linted 0 migrations (pending migrations of PostgreSQL');
  });

  it('exits 1 on an error, naming file, rule, statement and the safe way', async () => {
    ws.write(DROP, migration(['alter table "user" drop column "display_name"']));
    const result = await ws.migrate(['lint'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${DROP}: error [drop-column] Drops column "user"."display_name" and its data.`);
    expect(result.stdout).toContain('    alter table "user" drop column "display_name"');
    expect(result.stdout).toContain('    safely: deploy code that no longer reads or writes the column first');
    expect(result.stdout).toContain('Linted 1 migration (pending migrations of PostgreSQL');
  });

  it('check reports the lint error as a problem of kind lint', async () => {
    const result = await ws.migrate(['check', '--json'], env);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'lint', migration: '20300101_000001_auth-service_drop_display_name', service: 'auth-service' }));
  });

  it('an acknowledged finding passes, with its reason', async () => {
    ws.write(DROP, migration(['alter table "user" drop column "display_name"'], { statics: ["static allow = [{ rule: 'drop-column', reason: 'replaced by profile.name in v4' }];"] }));
    const result = await ws.migrate(['lint'], env);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain(`${DROP}: allowed [drop-column]`);
    expect(result.stdout).toContain('acknowledged: replaced by profile.name in v4');
    const check = JSON.parse((await ws.migrate(['check', '--json'], env)).stdout);
    expect(check.problems.filter((p: any) => p.kind === 'lint')).toEqual([]);
  });

  it('warnings pass unless --strict; --json prints one document', async () => {
    ws.write(INDEX, migration(['create index "user_role_index" on "user" ("role")']));
    const plain = await ws.migrate(['lint'], env);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(`${INDEX}: warning [index-not-concurrently]`);
    const strict = await ws.migrate(['lint', '--strict'], env);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('(--strict fails on warnings)');

    const json = await ws.migrate(['lint', '--json', '--strict'], env);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ ok: false, errors: 0, warnings: 1, allowed: 1, migrations: ['20300101_000001_auth-service_drop_display_name', '20300101_000002_auth-service_index_role'] });
    expect(report.findings.map((f: any) => [f.rule, f.severity, f.file])).toEqual([
      ['drop-column', 'error', DROP],
      ['index-not-concurrently', 'warning', INDEX],
    ]);
  });

  it('lints nothing that is already applied', async () => {
    expect((await ws.migrate(['migrate'], env)).code).toBe(0);
    const result = await ws.migrate(['lint', '--strict'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Linted 0 migrations');
  });
});

describe('migrate lint without a database, and --since', () => {
  const offline = workspaceFixture();

  it('lints every migration when there is no database yet; tables the stream creates are not "existing"', async () => {
    offline.write(DROP, migration(['alter table "user" drop column "display_name"']));
    const fresh = await offline.migrate(['lint', '--strict']);
    expect(fresh.code, fresh.stdout).toBe(0);
    expect(fresh.stdout).toContain('Linted 4 migrations (every migration (no DATABASE_URL and no embedded database yet)): 0 errors, 0 warnings.');
    offline.write(DROP, migration(['drop table "legacy"']));
    const result = await offline.migrate(['lint']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${DROP}: error [drop-table] Drops table "legacy" and all its data.`);
  });

  it('--since REV lints only the files added since that revision, and check --since too', async () => {
    const git = (...args: string[]) => offline.run('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args]);
    expect((await git('init', '-q')).code).toBe(0);
    expect((await git('add', 'migrations', 'apps')).code).toBe(0);
    expect((await git('commit', '-qm', 'stream')).code).toBe(0);
    // committed: the drop; added since: an index without CONCURRENTLY on an existing table
    offline.write(INDEX, migration(['create index "user_role_index" on "user" ("role")']));
    const result = await offline.migrate(['lint', '--since', 'HEAD', '--strict']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${INDEX}: warning [index-not-concurrently]`);
    expect(result.stdout).not.toContain('drop-column');
    expect(result.stdout).toContain('Linted 1 migration (migrations added since HEAD)');

    offline.write(INDEX, migration(['alter table "user" rename column "role" to "kind"', 'alter table "user" alter column "display_name" type varchar(50)'], { down: ['alter table "user" alter column "display_name" type varchar(120)'] }));
    const check = await offline.migrate(['check', '--offline', '--since', 'HEAD', '--json']);
    expect(check.code).toBe(1);
    const lint = JSON.parse(check.stdout).problems.filter((p: any) => p.kind === 'lint');
    expect(lint.map((p: any) => p.message)).toEqual([expect.stringContaining(`${INDEX}: [narrow-type] Changes "user"."display_name" from varchar(120) to varchar(50)`)]);
  });

  it('refuses an unknown revision and an unknown allow rule, naming them', async () => {
    const rev = await offline.migrate(['lint', '--since', 'no-such-branch']);
    expect(rev.code).toBe(1);
    expect(rev.stderr).toContain('--since no-such-branch: not a git revision');
    offline.write(INDEX, migration(['select 1'], { statics: ["static allow = ['drop-colum'];"] }));
    const allow = await offline.migrate(['lint']);
    expect(allow.code).toBe(1);
    expect(allow.stderr).toContain(`error: Migration ${INDEX}: static allow names an unknown lint rule "drop-colum"`);
  });
});
