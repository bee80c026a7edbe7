/**
 * The git pre-commit hook in a scratch repository: `npm run hooks:install` installs it, it blocks
 * a commit whose model change has no migration (naming the service) and lets it through once the
 * migration is added; the installer never overwrites someone else's hook unless forced.
 */
import { chmodSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, scratchWorkspace, type Workspace } from './support/workspace.ts';

let ws: Workspace;
const identity = { GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com' };

const git = (...args: string[]) => ws.run('git', args, identity);
const commits = async () => (await git('rev-list', '--count', 'HEAD')).stdout.trim();

beforeAll(async () => {
  ws = scratchWorkspace();
  cpSync(join(REPO, 'tools/hooks'), ws.path('tools/hooks'), { recursive: true });
  ws.write('.gitignore', 'node_modules/\n.data/\n');
  expect((await git('init', '-q', '-b', 'main')).code).toBe(0);
  await git('add', '-A');
  expect((await git('commit', '-q', '-m', 'initial')).code).toBe(0);
});

afterAll(() => ws?.dispose());

describe('the pre-commit hook', () => {
  it('refuses to replace a hook it did not install, unless forced', async () => {
    const hook = ws.path('.git/hooks/pre-commit');
    writeFileSync(hook, '#!/bin/sh\nexit 0\n');
    chmodSync(hook, 0o755);
    const refused = await ws.run('npm', ['run', '--silent', 'hooks:install']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error: .git/hooks/pre-commit already exists and was not installed by Tributary');
    expect(readFileSync(hook, 'utf8')).toBe('#!/bin/sh\nexit 0\n');

    const forced = await ws.run('npm', ['run', '--silent', 'hooks:install', '--', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('Installed .git/hooks/pre-commit');
    expect(readFileSync(hook, 'utf8')).toContain('migrate makemigrations --check');
    expect((await ws.run('npm', ['run', '--silent', 'hooks:install'])).code).toBe(0); // reinstalling its own hook is fine
  });

  it('blocks a commit whose model change has no migration, and lets it through with the migration', async () => {
    ws.edit('apps/billing-service/src/db/models/customer.ts', "currency: p.string().length(3).default('EUR'),", "currency: p.string().length(3).default('EUR'),\n    vatExempt: p.boolean().default(false),");
    await git('add', 'apps');
    const blocked = await git('commit', '-m', 'vat exemption');
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain('Service billing-service has model changes without a migration (alter table "customer" add "vat_exempt" boolean not null default false).');
    expect(blocked.stderr).toContain('Commit blocked: write the migration');
    expect(await commits()).toBe('1');

    expect((await ws.migrate(['makemigrations', '-m', 'vat exempt'])).code).toBe(0);
    await git('add', 'migrations');
    const passed = await git('commit', '-m', 'vat exemption');
    expect(passed.code).toBe(0);
    expect(passed.stderr).toContain('No model changes without a migration.'); // git shows a hook's output on stderr
    expect(await commits()).toBe('2');
    expect((await git('show', '--name-only', '--format=', 'HEAD')).stdout).toMatch(/migrations\/\d{8}_\d{6}_billing-service_vat_exempt\.ts/);
  });
});
