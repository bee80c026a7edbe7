/**
 * The `migrate` commands (the contract's CLI table). Each action parses its flags, calls one
 * library verb and prints the result; none holds logic of its own.
 */
import { relative } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import * as api from '../api.ts';
import { loadConfig } from '../config/config.ts';
import { extraCommands } from './commands/index.ts';
import { formatMs, note, print, printJson, withProgress } from './output.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function integer(name: string, min: number) {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min) throw new InvalidArgumentError(`${name} needs a whole number of at least ${min}.`);
    return n;
  };
}

function target(): api.Target {
  let told = false;
  return {
    onDatabase: (label) => {
      if (!told) note(`Using ${label}`);
      told = true;
    },
  };
}

const rel = (file: string) => relative(process.cwd(), file) || file;

export function buildProgram(): Command {
  const program = new Command('migrate')
    .description('Tributary: one migration stream for every service of the workspace')
    .option('--verbose', 'show stack traces for unexpected errors')
    .showHelpAfterError()
    .exitOverride((error) => {
      // commander's own messages (unknown option, missing argument) are user mistakes: exit 1
      process.exit(error.exitCode === 0 ? 0 : 1);
    });

  program
    .command('makemigrations')
    .description('write a migration for every service whose models changed')
    .option('-m, --message <msg>', 'what the migration does (becomes the file slug)')
    .option('--service <name>', 'only this service (repeatable)', collect)
    .option('--empty', 'write a blank data migration (needs --service)')
    .option('--check', 'write nothing; exit 1 if a model change lacks a migration')
    .option('--dry-run', 'print the file(s) instead of writing them')
    .action(async (opts) => {
      const result = await api.makemigrations({}, { message: opts.message, services: opts.service, empty: opts.empty, check: opts.check, dryRun: opts.dryRun });
      if (opts.check) {
        if (result.changed.length === 0) return print('No model changes without a migration.');
        for (const service of result.changed) note(`Service ${service} has model changes without a migration.`);
        process.exitCode = 1;
        return;
      }
      if (result.files.length === 0) return print('No changes detected.');
      for (const file of result.files) {
        if (opts.dryRun) {
          print(`// ${rel(file.file)}`);
          print(file.code);
        } else {
          const deps = file.dependsOn.length ? ` (depends on ${file.dependsOn.join(', ')})` : '';
          print(`Created ${rel(file.file)}: ${file.statements} statement${file.statements === 1 ? '' : 's'}${deps}`);
        }
      }
    });

  program
    .command('migrate')
    .description('apply pending migrations under the migration lock')
    .option('--service <name>', "apply this service's pending migrations and what they depend on (repeatable)", collect)
    .option('--to <name>', 'stop after this migration')
    .option('--dry-run', 'print the SQL and change nothing')
    .option('--fake', 'record as applied without running')
    .option('--allow-out-of-order', 'apply pending migrations older than applied ones of the same service')
    .option('--lock-wait <seconds>', 'how long to wait for another runner', integer('--lock-wait', 0))
    .option('--lock-retries <n>', 'retries when a statement times out waiting for a table lock', integer('--lock-retries', 0))
    .option('--lock-timeout <duration>', "PostgreSQL lock_timeout for every statement (default 5s)")
    .option('--statement-timeout <duration>', 'PostgreSQL statement_timeout for every statement')
    .option('--atomic', 'apply the whole batch in one transaction: all or nothing')
    .option('--backup', 'write a pg_dump of the database to .data/backups/ before applying')
    .action(async (opts) => {
      const options = {
        services: opts.service,
        to: opts.to,
        dryRun: opts.dryRun,
        fake: opts.fake,
        allowOutOfOrder: opts.allowOutOfOrder,
        lockWaitSeconds: opts.lockWait,
        lockRetries: opts.lockRetries,
        lockTimeout: opts.lockTimeout,
        statementTimeout: opts.statementTimeout,
        atomic: opts.atomic,
        backup: opts.backup,
      };
      if (opts.dryRun) {
        let count = 0;
        await api.migrate(target(), options, {
          dryRun: (name, sql) => {
            count++;
            print(`-- ${name}`);
            for (const statement of sql.statements) print(statement.endsWith(';') ? statement : `${statement};`);
            for (const query of sql.directQueries) print(`-- runs directly (not shown by a dry run's SQL, not executed now): ${query}`);
            print();
          },
        });
        return print(count === 0 ? 'No migrations to apply.' : `Dry run: ${count} migration${count === 1 ? '' : 's'} would be applied; nothing was changed.`);
      }
      const result = await withProgress('Migrating', (progress) =>
        api.migrate(target(), options, {
          waitingForLock: () => note('Another runner holds the migration lock; waiting for it…'),
          applying: (name, index, total) => progress.update(`Applying ${index + 1}/${total} ${name}${opts.fake ? ' (fake)' : ''}`),
          applied: (name, ms) => progress.update(`  applied ${name} (${formatMs(ms)})`),
          retrying: (name, attempt, error) => note(`${name}: ${error}; retry ${attempt}`),
          backedUp: (file) => note(`Backed up the database to ${rel(file)} (restore with \`migrate restore ${rel(file)}\`)`),
        }),
      );
      if (result.applied.length === 0) {
        print(result.waitedForLock ? 'Another runner applied the pending migrations; nothing left to do.' : 'No migrations to apply.');
      } else {
        const total = result.applied.reduce((sum, m) => sum + m.ms, 0);
        print(`${opts.fake ? 'Faked' : 'Applied'} ${result.applied.length} migration${result.applied.length === 1 ? '' : 's'} in ${formatMs(total)}.`);
      }
    });

  program
    .command('showmigrations')
    .description('list every migration with its status')
    .option('--service <name>', 'only this service (repeatable)', collect)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const result = await api.showmigrations(opts.json ? {} : target(), { services: opts.service });
      if (opts.json) return printJson({ migrations: result.migrations.map(({ problem: _, ...m }) => m), applied: result.applied, pending: result.pending });
      const width = Math.max(7, ...result.migrations.map((m) => m.service.length));
      print('Migrations:');
      for (const m of result.migrations) {
        const mark = m.applied ? '✅ applied' : '⏳ pending';
        const problem = m.problem ? `  ⚠ ${m.problem}` : '';
        print(`  ${mark} | ${m.service.padEnd(width)} | ${m.name}${problem}`);
      }
      print(`\nSummary: ${result.applied} applied, ${result.pending} pending, ${result.migrations.length} total`);
    });

  program
    .command('check')
    .description('models vs stream, stream integrity, and (with a database) pending/out-of-order/edited migrations')
    .option('--service <name>', 'only this service (repeatable)', collect)
    .option('--json', 'print JSON')
    .option('--offline', 'do not look at the database')
    .option('--since <rev>', 'fail if a migration that existed at this git revision was edited or deleted')
    .action(async (opts) => {
      const report = await api.check(opts.json ? {} : target(), { services: opts.service, offline: opts.offline, since: opts.since });
      if (!report.ok) process.exitCode = 1;
      if (opts.json) return printJson(report);
      for (const problem of report.problems) note(`✗ ${problem.message}`);
      if (report.database.note) note(`(${report.database.note})`);
      print(report.ok ? 'Check passed.' : `Check failed: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}.`);
    });

  program
    .command('rollback')
    .description('revert the last applied migration(s)')
    .addOption(new Option('-s, --steps <n>', 'how many to revert').argParser(integer('-s', 1)))
    .option('--to <name>', 'revert everything applied after this migration (it stays applied)')
    .option('--service <name>', "only this service's migrations")
    .option('--dry-run', 'print the SQL and change nothing')
    .action(async (opts) => {
      const options = { steps: opts.steps, to: opts.to, service: opts.service, dryRun: opts.dryRun };
      if (opts.dryRun) {
        await api.rollback(target(), options, {
          dryRun: (name, sql) => {
            print(`-- revert ${name}`);
            for (const statement of sql.statements) print(statement.endsWith(';') ? statement : `${statement};`);
            for (const query of sql.directQueries) print(`-- runs directly: ${query}`);
          },
        });
        return print('Dry run: nothing was changed.');
      }
      const result = await withProgress('Rolling back', (progress) =>
        api.rollback(target(), options, {
          reverting: (name, index, total) => progress.update(`Reverting ${index + 1}/${total} ${name}`),
          reverted: (name, ms) => progress.update(`  reverted ${name} (${formatMs(ms)})`),
        }),
      );
      print(result.reverted.length === 0 ? 'Nothing to roll back.' : `Rolled back ${result.reverted.length} migration${result.reverted.length === 1 ? '' : 's'}.`);
    });

  program
    .command('history')
    .description('applied migrations with time, duration and service')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const rows = await api.history(opts.json ? {} : target());
      if (opts.json) return printJson({ migrations: rows });
      if (rows.length === 0) return print('No migrations applied.');
      for (const row of rows) print(`${row.appliedAt.toISOString()}  ${formatMs(row.executionMs).padStart(8)}  ${row.service.padEnd(16)} ${row.name}  (${row.appliedBy})`);
    });

  program
    .command('current')
    .description('the latest applied migration')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const row = await api.current(opts.json ? {} : target());
      if (opts.json) return printJson({ current: row });
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
    .action(async () => {
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
    .action(async (name: string) => {
      const result = await api.stamp(target(), name);
      print(`Stamped ${result.applied.length} migration${result.applied.length === 1 ? '' : 's'} as applied.`);
    });

  program
    .command('config', { hidden: true })
    .description('print the resolved configuration')
    .action(() => printJson(loadConfig()));

  for (const register of extraCommands) register(program);
  return program;
}
