/**
 * Runs one library verb and reports it the way the `migrate` CLI does (results on stdout,
 * notes on stderr, progress through listr2). Shared by the commander actions and the Nx
 * executors so both print the same thing; each returns whether the command succeeded.
 */
import * as api from '../api.ts';
import type { CheckOptions } from '../checks/check.ts';
import { whatDiffers } from '../diff/change-summary.ts';
import { loadConfig } from '../config/config.ts';
import type { MakeMigrationsOptions, PlannedFile } from '../diff/makemigrations.ts';
import type { MigrateOptions } from '../executor/migrate.ts';
import type { RollbackOptions } from '../executor/rollback.ts';
import type { CollectedSql } from '../executor/sql-reader.ts';
import { strayFileMessage, strayFiles } from '../stream/stream.ts';
import { confirm, type ConfirmOptions } from './confirm.ts';
import { formatMs, note, plural, print, printJson, rel } from './output.ts';
import { batchProgress } from './progress.ts';

/** A target that says once which database the command uses. */
export function announcingTarget(cwd?: string): api.Target {
  let told = false;
  return {
    cwd,
    onDatabase: (label) => {
      if (!told) note(`Using ${label}`);
      told = true;
    },
  };
}


/** A file in migrations/ that is not named like a migration is ignored: say so (stderr, never an error). */
function warnAboutStrayFiles(target: api.Target): void {
  let config;
  try {
    config = loadConfig({ cwd: target.cwd });
  } catch {
    return; // the command itself reports a broken workspace
  }
  for (const file of strayFiles(config.migrationsDir)) note(`Warning: ${strayFileMessage(config.root, config.migrationsDir, file)}`);
}

export async function runMakemigrations(target: api.Target, options: MakeMigrationsOptions): Promise<boolean> {
  const result = await api.makemigrations(target, { onNote: note, ...options });
  if (options.check) {
    if (result.changed.length === 0) print('No model changes without a migration.');
    for (const service of result.changed) note(`Service ${service} has model changes without a migration${whatDiffers(result.statements?.[service])}.`);
    return result.changed.length === 0;
  }
  if (result.files.length === 0) print('No changes detected.');
  for (const file of result.files) {
    if (options.dryRun) {
      print(`// ${rel(file.file)}`);
      print(file.code);
    } else {
      const deps = file.dependsOn.length ? ` (depends on ${file.dependsOn.join(', ')})` : '';
      print(`Created ${rel(file.file)}: ${plural(file.statements, 'statement')}${deps}`);
      for (const moved of file.takesOver ?? []) print(`  takes over table ${moved.table} from ${moved.from} (ownership transfer: no DDL, data and foreign keys kept)`);
    }
    warnBeforeDataLoss(file, options.dryRun);
  }
  return true;
}

/** The warning block of a new (or, in a dry run, would-be) migration: each risky statement with its lint rule. */
function warnBeforeDataLoss(file: PlannedFile, dryRun: boolean | undefined): void {
  const findings = file.destructive ?? [];
  if (findings.length > 0 && dryRun) note(`${rel(file.file)} would be written with:`);
  for (const finding of findings) {
    if (finding.severity === 'error') note(`  ⚠ data loss [${finding.rule}]: ${finding.message} (${finding.statement})`);
    else note(`  ⚠ warning [${finding.rule}]: ${finding.message} (${finding.statement}) Safely: ${finding.safely}`);
  }
  const errors = findings.filter((finding) => finding.severity === 'error').length;
  if (errors > 0) note(`  migrate refuses ${rel(file.file)} until the file acknowledges ${errors === 1 ? 'it' : 'them'} (static allow = [{ rule, reason }]) or runs with --allow-destructive.`);
}

export async function runMigrate(target: api.Target, options: MigrateOptions): Promise<boolean> {
  warnAboutStrayFiles(target);
  if (options.dryRun) {
    let count = 0;
    await api.migrate(target, options, {
      dryRun: (name, sql) => {
        count++;
        print(`-- ${name}`);
        printDryRun(sql);
        print();
      },
    });
    print(count === 0 ? 'No migrations to apply.' : `Dry run: ${plural(count, 'migration')} would be applied; nothing was changed.`);
    return true;
  }
  const progress = batchProgress('Applying', 'applied', options.fake ? ' (fake)' : '');
  const result = await progress.around(() =>
    api.migrate(target, options, {
      waitingForLock: () => note('Another runner holds the migration lock; waiting for it…'),
      planned: (names) => progress.planned(names),
      applying: (name, index, total) => progress.started(name, index, total),
      applied: (name, ms) => progress.finished(name, ms),
      statement: (name, sql) => progress.statement(name, sql),
      retrying: (name, attempt, error) => note(`${name}: ${error}; retry ${attempt}`),
      backedUp: (file) => note(`Backed up the database to ${rel(file)} (restore with \`migrate restore ${rel(file)}\`)`),
    }),
  );
  if (result.applied.length === 0) {
    const upTo = options.to && options.to !== 'head' ? ` up to ${options.to.replace(/\.ts$/, '')} (\`migrate showmigrations\` lists the pending ones)` : '';
    print(result.waitedForLock ? 'Another runner applied the pending migrations; nothing left to do.' : `No migrations to apply${upTo}.`);
  } else {
    const total = result.applied.reduce((sum, m) => sum + m.ms, 0);
    print(`${options.fake ? 'Faked' : 'Applied'} ${plural(result.applied.length, 'migration')} in ${formatMs(total)}.`);
  }
  return true;
}

/** A migration's dry run: the queries it ran itself first (as they come before its collected SQL), then that SQL. */
function printDryRun(sql: CollectedSql): void {
  const writes = new Set(sql.wouldWrite);
  for (const query of sql.directQueries) print(writes.has(query) ? `-- would write: ${query}` : `-- read: ${query}`);
  if (sql.stoppedAfterWrite) print(`-- it stops here in a dry run, after a write that was not made: ${sql.stoppedAfterWrite}`);
  for (const statement of sql.statements) print(statement.endsWith(';') ? statement : `${statement};`);
}

export async function runShowmigrations(target: api.Target, options: { services?: string[]; json?: boolean }): Promise<boolean> {
  warnAboutStrayFiles(target);
  const result = await api.showmigrations(options.json ? { cwd: target.cwd } : target, { services: options.services });
  if (options.json) {
    printJson({ migrations: result.migrations.map(({ problem: _, ...m }) => m), applied: result.applied, pending: result.pending });
    return true;
  }
  const width = Math.max(7, ...result.migrations.map((m) => m.service.length));
  print('Migrations:');
  for (const m of result.migrations) {
    const mark = m.applied ? '✅ applied' : '⏳ pending';
    const problem = m.problem ? `  ⚠ ${m.problem}` : '';
    print(`  ${mark} | ${m.service.padEnd(width)} | ${m.name}${problem}`);
  }
  print(`\nSummary: ${result.applied} applied, ${result.pending} pending, ${result.migrations.length} total`);
  return true;
}

export async function runCheck(target: api.Target, options: CheckOptions & { offline?: boolean; json?: boolean }): Promise<boolean> {
  // Notes go to stderr, also with --json (stdout holds only the document).
  const report = await api.check(options.json ? { cwd: target.cwd } : target, { services: options.services, offline: options.offline, since: options.since, onNote: note });
  if (options.json) {
    printJson(report);
    return report.ok;
  }
  for (const problem of report.problems) note(`✗ ${problem.message}`);
  for (const warning of report.warnings) note(`⚠ ${warning.message}`);
  for (const item of report.notes) note(`ℹ ${item.message}`);
  if (report.database.note) note(`(${report.database.note})`);
  print(report.ok ? 'Check passed.' : `Check failed: ${plural(report.problems.length, 'problem')}.`);
  return report.ok;
}

export async function runRollback(target: api.Target, options: RollbackOptions & ConfirmOptions): Promise<boolean> {
  if (options.dryRun) {
    await api.rollback(target, options, {
      dryRun: (name, sql) => {
        print(`-- revert ${name}`);
        printDryRun(sql);
      },
    });
    print('Dry run: nothing was changed.');
    return true;
  }
  const progress = batchProgress(options.fake ? 'Un-recording' : 'Reverting', options.fake ? 'un-recorded' : 'reverted');
  const result = await progress.around(() =>
    api.rollback(target, options, {
      confirm: async (names) => {
        await confirm('rollback', `${options.fake ? 'un-records (without running down())' : 'reverts'} ${names.join(', ')}`, options);
        progress.planned(names);
      },
      reverting: (name, index, total) => progress.started(name, index, total),
      reverted: (name, ms) => progress.finished(name, ms),
    }),
  );
  // Asked for more than there is: say so, rather than quietly revert fewer.
  if (options.steps && result.reverted.length > 0 && result.reverted.length < options.steps) note(`Only ${plural(result.reverted.length, 'migration')} could be reverted (-s ${options.steps} asked for more than ${options.service ? `${options.service} has` : 'is'} applied).`);
  const verb = options.fake ? 'Un-recorded (without running down())' : 'Rolled back';
  print(result.reverted.length === 0 ? 'Nothing to roll back.' : `${verb} ${plural(result.reverted.length, 'migration')}.`);
  return true;
}
