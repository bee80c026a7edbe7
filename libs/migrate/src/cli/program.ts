/**
 * The `migrate` commands (the contract's CLI table). Each action parses its flags, calls one
 * library verb and prints the result; none holds logic of its own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import * as api from '../api.ts';
import { loadConfig, printableConfig } from '../config/config.ts';
import { TributaryError } from '../errors.ts';
import { extraCommands } from './commands/index.ts';
import { confirm } from './confirm.ts';
import { fanOutFlags, makemigrationsOptions, migrateOptions, rollbackOptions, withFlags } from './options.ts';
import { formatMs, note, print, printJson } from './output.ts';
import { announcingTarget, runCheck, runMakemigrations, runMigrate, runRollback, runShowmigrations } from './verbs.ts';
import { runCheckTargets, runMigrateTargets, runShowmigrationsTargets } from './targets.ts';

const target = (): api.Target => announcingTarget();

function packageVersion(): string {
  return JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')).version;
}

const ENVIRONMENT_HELP = `
Database:
  DATABASE_URL            PostgreSQL URL, e.g. postgres://user@host:5432/db. Without it every
                          command uses the embedded PGlite database in .data/pglite/ (created on
                          first use; one process at a time).
  MIGRATION_DATABASE_URL  a direct connection (e.g. a DDL role) that migrate, rollback, stamp,
                          repair, restore and AUTO_MIGRATE use instead of DATABASE_URL, for when
                          the app's URL goes through a pooler such as PgBouncer.

Exit codes:
  0  done; check/lint/drift found nothing
  1  a failure, a refusal or a user mistake (one sentence on stderr naming the file, service or
     migration), or check/lint/drift/makemigrations --check found something

Same command as \`npx tributary\`. Guides: docs/QUICK_REF.md, docs/MIGRATIONS.md.`;

export function buildProgram(): Command {
  const program = new Command('migrate')
    .description('Tributary: one migration stream for every service of the workspace')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--verbose', 'show stack traces for unexpected errors')
    .addHelpText('after', ENVIRONMENT_HELP)
    // one line, not the whole help: a user mistake is one sentence
    .showHelpAfterError('(add --help for usage)')
    .exitOverride((error) => {
      // commander's own messages (unknown option, missing argument) are user mistakes: exit 1
      process.exit(error.exitCode === 0 ? 0 : 1);
    });

  withFlags(program.command('makemigrations'), 'makemigrations')
    .description('write a migration for every service whose models changed')
    .action(async (opts) => {
      if (!(await runMakemigrations({}, makemigrationsOptions(opts, opts.service)))) process.exitCode = 1;
    });

  withFlags(program.command('migrate'), 'migrate')
    .description('apply pending migrations under the migration lock')
    .action(async (opts) => {
      const options = migrateOptions(opts, opts.service);
      if (opts.targets) {
        if (!(await runMigrateTargets(fanOutFlags(opts), options))) process.exitCode = 1;
        return;
      }
      const needsTargets = ['concurrency', 'canary', 'continueOnError', 'json'].find((key) => opts[key] !== undefined);
      if (needsTargets) throw new TributaryError(`--${needsTargets.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} works with --targets only.`);
      await runMigrate(target(), options);
    });

  withFlags(program.command('showmigrations'), 'showmigrations')
    .description('list every migration with its status')
    .action(async (opts) => {
      if (opts.targets) {
        if (!(await runShowmigrationsTargets(fanOutFlags(opts), { services: opts.service }))) process.exitCode = 1;
        return;
      }
      await runShowmigrations(target(), { services: opts.service, json: opts.json });
    });

  withFlags(program.command('check'), 'check')
    .description('models vs stream, stream integrity, and (with a database) pending/out-of-order/edited migrations')
    .action(async (opts) => {
      if (opts.targets) {
        if (opts.offline) throw new TributaryError('--offline and --targets contradict each other: --targets checks databases.');
        if (!(await runCheckTargets(fanOutFlags(opts), { services: opts.service, since: opts.since }))) process.exitCode = 1;
        return;
      }
      if (!(await runCheck(target(), { services: opts.service, offline: opts.offline, since: opts.since, json: opts.json }))) process.exitCode = 1;
    });

  withFlags(program.command('rollback'), 'rollback')
    .description('revert the last applied migration(s)')
    .action(async (opts) => {
      await runRollback(target(), rollbackOptions(opts, opts.service));
    });

  reading(program, 'history', 'applied migrations with time, duration and service', api.history, (rows) => ({ migrations: rows }), (rows) => {
    if (rows.length === 0) return print('No migrations applied.');
    for (const row of rows) print(`${row.appliedAt.toISOString()}  ${formatMs(row.executionMs).padStart(8)}  ${row.service.padEnd(16)} ${row.name}  (${row.appliedBy})`);
  });

  reading(program, 'current', 'the latest applied migration', api.current, (row) => ({ current: row }), (row) => {
    print(row ? `${row.name} (${row.service}, applied ${row.appliedAt.toISOString()})` : 'No migrations applied.');
  });

  program
    .command('validate')
    .description('fail if an applied migration was edited, deleted or failed')
    .action(async () => {
      const result = await api.validate(target());
      for (const problem of result.problems) note(`✗ ${problem}`);
      if (!result.ok) process.exitCode = 1;
      print(result.ok ? 'History and stream agree.' : `Validation failed: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}.`);
    });

  program
    .command('repair')
    .description('realign checksums with the files, forget applied migrations whose files are gone, clear failures')
    .option('-y, --yes', 'do not ask for confirmation on a terminal')
    .action(async (opts) => {
      if (!opts.yes && process.stdin.isTTY) {
        const { problems } = await api.validate(target());
        if (problems.length === 0) return print('Nothing to repair.');
        for (const problem of problems) note(`✗ ${problem}`);
        await confirm('repair', 'rewrites the history table to resolve the problems above', opts);
      }
      const result = await api.repair(target());
      for (const name of result.realigned) print(`Realigned checksum of ${name}`);
      for (const name of result.forgotten) print(`Forgot ${name} (file missing)`);
      for (const name of result.clearedFailures) print(`Cleared failure of ${name}`);
      if (result.realigned.length + result.forgotten.length + result.clearedFailures.length === 0) print('Nothing to repair.');
    });

  program
    .command('stamp')
    .description('record migrations up to NAME (or head) as applied without running them')
    .argument('<name>', 'a migration name, or head')
    .option('-y, --yes', 'do not ask for confirmation on a terminal')
    .action(async (name: string, opts) => {
      const result = await api.stamp(target(), name, {
        confirm: (names) => confirm('stamp', `records ${someNames(names)} as applied without running ${names.length === 1 ? 'it' : 'them'}`, opts),
      });
      print(`Stamped ${result.applied.length} migration${result.applied.length === 1 ? '' : 's'} as applied.`);
    });

  program
    .command('config', { hidden: true })
    .description('print the resolved configuration')
    .action(() => printJson(printableConfig(loadConfig())));

  for (const register of extraCommands) register(program);
  return program;
}

/** The first few of `names`, then how many more. */
function someNames(names: string[], shown = 5): string {
  return names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}

/** A command that reads one thing from the database and prints it, or with `--json` prints it as `json` shapes it. */
function reading<T>(program: Command, name: string, description: string, read: (target: api.Target) => Promise<T>, json: (value: T) => unknown, text: (value: T) => void): void {
  program
    .command(name)
    .description(description)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const value = await read(opts.json ? {} : target());
      if (opts.json) return printJson(json(value));
      text(value);
    });
}
