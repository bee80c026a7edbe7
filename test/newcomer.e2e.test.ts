/**
 * What a newcomer meets (issue 14): `--version` and two bin names, `--help` that explains the
 * database and the exit codes, confirmations on a terminal before commands that rewrite history or
 * data, a listr2 task per migration on a terminal, and the messages a first try ran into.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/database.ts';
import { cleanEnv, REPO, type RunResult } from './support/workspace.ts';
import { workspaceWithDatabase } from './support/fixture.ts';
import { migrationSource } from './support/migrations.ts';

const { ws, db, env } = workspaceWithDatabase();

const applied = async () => (await db.query<{ name: string }>('select name from tributary_migrations order by name')).map((r) => r.name);

/** Runs the CLI on a pseudo-terminal (util-linux `script`), typing `input`; CI unset so it renders as for a person. */
function onTerminal(args: string[], input: string, columns = 120): Promise<RunResult> {
  const command = [process.execPath, ws.path('node_modules/.bin/migrate'), ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve) => {
    // a pseudo-terminal without a parent terminal is 0 columns wide: give it a real width (unless testing 0)
    const child = spawn('script', ['-qec', `stty cols ${columns} rows 40; ${command}`, '/dev/null'], { cwd: ws.dir, env: cleanEnv({ ...env, CI: undefined, TERM: 'xterm' }) });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stdin.write(input);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''), stderr: '' }));
  });
}

describe('version, bin names and help', () => {
  it('prints the version under both bin names', async () => {
    const version = JSON.parse(readFileSync(join(REPO, 'libs/migrate/package.json'), 'utf8')).version;
    const migrate = await ws.migrate(['--version']);
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.stdout.trim()).toBe(version);
    const tributary = await ws.run(process.execPath, [ws.path('node_modules/.bin/tributary'), '--version']);
    expect(tributary.stdout.trim()).toBe(version);
  });

  it('--help explains DATABASE_URL, MIGRATION_DATABASE_URL, the embedded PGlite database and the exit codes', async () => {
    const help = (await ws.migrate(['--help'])).stdout;
    for (const needed of ['DATABASE_URL', 'MIGRATION_DATABASE_URL', 'PGlite', '.data/pglite/', 'Exit codes:', '--version']) expect(help).toContain(needed);
  });
});

describe('messages', () => {
  it('stamp with an unknown name says stamp, not --to', async () => {
    const result = await ws.migrate(['stamp', 'nope'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: stamp nope: no migration of that name in the stream.');
    expect(result.stderr).not.toContain('--to');
  });

  it('restore off a terminal needs --yes, and changes nothing without it', async () => {
    ws.write('.data/backups/any.sql', '-- PostgreSQL database dump\n');
    const result = await ws.migrate(['restore', '.data/backups/any.sql'], env);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('error: restore replaces every schema of the database with .data/backups/any.sql; off a terminal it runs only with --yes.');
  });

  it('restore of a missing file says so before asking anything', async () => {
    const result = await ws.migrate(['restore', '.data/backups/missing.sql'], env);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('error: Backup .data/backups/missing.sql does not exist.');
  });
});

describe('on a terminal', () => {
  it('migrate shows one task per migration, each ✔ with its duration', async () => {
    const result = await onTerminal(['migrate'], '');
    expect(result.code, result.stdout).toBe(0);
    for (const name of ['20261123_130022_auth-service_initial', '20261123_130023_billing-service_initial', '20261123_130024_catalog-service_initial']) {
      expect(result.stdout).toMatch(new RegExp(`✔ ${name} \\(\\d+ ms\\)`));
    }
    expect(result.stdout).toContain('Applied 3 migrations');
  });

  it('rollback asks first: "n" cancels and changes nothing; --yes does not ask', async () => {
    const before = await applied();
    const cancelled = await onTerminal(['rollback'], 'n\n');
    expect(cancelled.code).toBe(1);
    expect(cancelled.stdout).toContain('rollback reverts 20261123_130024_catalog-service_initial. Continue? [y/N]');
    expect(cancelled.stdout).toContain('error: rollback cancelled; nothing was changed.');
    expect(await applied()).toEqual(before);

    const confirmed = await onTerminal(['rollback'], 'y\n');
    expect(confirmed.code, confirmed.stdout).toBe(0);
    expect(confirmed.stdout).toMatch(/✔ 20261123_130024_catalog-service_initial \(\d+ ms\)/);
    expect(await applied()).toEqual(before.slice(0, -1));

    const unasked = await onTerminal(['rollback', '--yes'], '');
    expect(unasked.code, unasked.stdout).toBe(0);
    expect(unasked.stdout).not.toContain('Continue?');
    expect(await applied()).toEqual(before.slice(0, -2));
  });

  it('stamp asks first, naming what it records; off a terminal it goes on', async () => {
    const cancelled = await onTerminal(['stamp', 'head'], 'n\n');
    expect(cancelled.code).toBe(1);
    expect(cancelled.stdout).toContain('stamp records 20261123_130023_billing-service_initial, 20261123_130024_catalog-service_initial as applied without running them. Continue? [y/N]');
    const extra = [1, 2, 3, 4].map((n) => `migrations/20300101_00000${n}_catalog-service_extra_${n}.ts`);
    for (const [i, file] of extra.entries()) ws.write(file, migrationSource([`select ${i}`], { service: 'catalog-service' }));
    try {
      const many = await onTerminal(['stamp', 'head'], 'n\n');
      expect(many.stdout).toContain('stamp records 20261123_130023_billing-service_initial, 20261123_130024_catalog-service_initial, 20300101_000001_catalog-service_extra_1, 20300101_000002_catalog-service_extra_2, 20300101_000003_catalog-service_extra_3 and 1 more as applied without running them. Continue? [y/N]');
    } finally {
      for (const file of extra) ws.remove(file);
    }
    const offTerminal = await ws.migrate(['stamp', 'head'], env);
    expect(offTerminal.code, offTerminal.stderr).toBe(0);
  });

  it('shows the statement a migration is running once it takes more than a second', async () => {
    ws.write('migrations/20300101_000000_catalog-service_slow.ts', `import { Migration } from '@mikro-orm/migrations';
export class Slow extends Migration {
  static service = 'catalog-service';
  static transactional = false;
  override up() { this.addSql('select pg_sleep(2.5)'); }
  override down() { this.addSql('select 1'); }
}
`);
    const result = await onTerminal(['migrate'], '');
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('running: select pg_sleep(2.5)');
    expect(result.stdout).toMatch(/✔ 20300101_000000_catalog-service_slow \(\d+\.\d s\)/);
  });

  it('a failed migration ends ✖ with its duration, as ✔ tasks show theirs', async () => {
    const name = '20300101_000001_catalog-service_broken';
    ws.write(`migrations/${name}.ts`, migrationSource(['select 1/0'], { service: 'catalog-service' }));
    try {
      const result = await onTerminal(['migrate'], '');
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(new RegExp(`✖ ${name} \\(\\d+ ms\\)`));
    } finally {
      ws.remove(`migrations/${name}.ts`);
    }
  });

  it('a terminal that reports 0 columns gets lines of a usual width, not one character per line', async () => {
    const name = '20300101_000002_catalog-service_quick';
    ws.write(`migrations/${name}.ts`, migrationSource(['select 1'], { service: 'catalog-service', down: ['select 1'] }));
    try {
      const result = await onTerminal(['migrate'], '', 0);
      expect(result.code, result.stdout).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`✔ ${name} \\(\\d+ ms\\)`));
    } finally {
      await ws.migrateOk(['rollback', '--yes'], env);
      ws.remove(`migrations/${name}.ts`);
    }
  });

  it('rollback -s N with fewer applied says it reverted fewer', async () => {
    const own = await createTestDatabase(); // the committed stream alone, applied for real
    try {
      const ownEnv = { DATABASE_URL: own.url };
      ws.remove('migrations/20300101_000000_catalog-service_slow.ts');
      expect((await ws.migrate(['migrate'], ownEnv)).code).toBe(0);
      const result = await ws.migrate(['rollback', '-s', '8'], ownEnv);
      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(result.stderr).toContain('Only 3 migrations could be reverted (-s 8 asked for more than is applied).');
      expect(await own.query('select name from tributary_migrations')).toEqual([]);
    } finally {
      await own.drop();
    }
  });
});
