/**
 * `migrate watch [--apply]`: during development, prints the migration each save of a model file
 * calls for, per service — or with `--apply` writes and applies it. Runs until Ctrl-C.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import type { ProbeReport } from '../../watch/watcher.ts';
import { note, plural, print, rel } from '../output.ts';


function milliseconds(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('--debounce needs a whole number of milliseconds.');
  return Number(value);
}

function render(report: ProbeReport, initial: boolean, apply: boolean): void {
  for (const file of report.files) {
    const deps = file.dependsOn.length ? `, depends on ${file.dependsOn.join(', ')}` : '';
    print(`${file.service}: ${report.written ? 'wrote' : 'would write'} ${rel(file.file)} (${plural(file.statements, 'statement')}${deps})`);
    if (!report.written) print(file.code.replace(/^(?=.)/gm, '  '));
  }
  if (report.applied.length > 0) print(`Applied ${plural(report.applied.length, 'migration')}: ${report.applied.join(', ')}.`);
  if (report.error) note(`✗ ${report.error}`);
  else if (report.files.length === 0) print('No model changes without a migration.');
  else if (initial && apply) note('(--apply writes and applies on the next save of a model file)');
}

export function register(program: Command): void {
  program
    .command('watch')
    .description("watch every service's models; on each save print the migration it calls for (--apply: write and apply it)")
    .option('--apply', 'write and apply the migration on each save (refused when NODE_ENV=production)')
    .option('-m, --message <msg>', 'slug of the migrations --apply writes')
    .option('--service <name>', 'only this service (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--debounce <ms>', 'quiet time after the last save before evaluating', milliseconds, 300)
    .action(async (opts) => {
      const { watchModels } = await import('../../watch/watcher.ts'); // its own imports are for this command only
      const watcher = watchModels(loadConfig(), { apply: opts.apply, message: opts.message, services: opts.service, debounceMs: opts.debounce }, {
        changed: (files) => note(`\n[${new Date().toLocaleTimeString()}] changed: ${files.join(', ') || 'model files'}`),
        evaluated: (report, initial) => render(report, initial, Boolean(opts.apply)),
      });
      note(`Watching the models of ${watcher.services.map((s) => s.name).join(', ')} (${opts.apply ? 'writing and applying migrations' : 'preview only'}; Ctrl-C to stop)…`);
      await new Promise((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await watcher.close();
    });
}
