/**
 * `migrate lint [--json] [--strict] [--since REV]`: the findings of the lint rules on pending (or
 * newly added) migrations; exit 1 on errors, or on warnings with `--strict`.
 */
import type { Command } from 'commander';
import * as api from '../../api.ts';
import { note, plural, print, printJson } from '../output.ts';

export function register(program: Command): void {
  program
    .command('lint')
    .description('flag destructive (error) and locking (warning) changes in pending migrations')
    .option('--json', 'print JSON')
    .option('--strict', 'fail on warnings too')
    .option('--since <rev>', 'lint the migration files added since this git revision instead of the pending ones')
    .action(async (opts) => {
      const report = await api.lint(opts.json ? {} : { onDatabase: (label) => note(`Using ${label}`) }, { since: opts.since, strict: opts.strict });
      if (!report.ok) process.exitCode = 1;
      if (opts.json) return printJson(report);
      for (const f of report.findings) {
        const mark = f.allowed ? 'allowed' : f.severity;
        print(`${f.file}: ${mark} [${f.rule}] ${f.message}`);
        print(`    ${f.statement}`);
        if (f.allowed) print(`    acknowledged${f.allowed.reason ? `: ${f.allowed.reason}` : ' (no reason given)'}`);
        else print(`    safely: ${f.safely}`);
      }
      print(
        `Linted ${plural(report.migrations.length, 'migration')} (${report.scope}): ${plural(report.errors, 'error')}, ${plural(report.warnings, 'warning')}` +
          `${report.allowed ? `, ${report.allowed} allowed` : ''}.${report.ok ? '' : report.errors ? '' : ' (--strict fails on warnings)'}`,
      );
    });
}
