/** `migrate restore FILE`: puts the database back to a backup written by `migrate --backup`. */
import type { Command } from 'commander';
import * as api from '../../api.ts';
import { confirm } from '../confirm.ts';
import { note, print, rel } from '../output.ts';

export function register(program: Command): void {
  program
    .command('restore')
    .description('restore a backup written by `migrate --backup` (replaces every schema of the database)')
    .argument('<file>', 'the backup, e.g. .data/backups/20261123_130623.sql')
    .option('-y, --yes', 'do not ask for confirmation (required off a terminal)')
    .action(async (file: string, opts) => {
      await api.checkBackup({}, file); // a missing file is said at once, not after a question
      await confirm('restore', `replaces every schema of the database with ${file}`, { yes: opts.yes, yesRequiredOffTerminal: true });
      const result = await api.restore({ onDatabase: (label) => note(`Using ${label}`) }, file);
      print(`Restored ${rel(result.file)} into ${result.database}.`);
    });
}
