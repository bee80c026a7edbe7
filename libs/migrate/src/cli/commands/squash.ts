/** `migrate squash --service S [--to NAME] -m MSG [--drop-data-migrations]`: one migration that replaces a service's history. */
import { relative } from 'node:path';
import type { Command } from 'commander';
import * as api from '../../api.ts';
import { note, print } from '../output.ts';

export function register(program: Command): void {
  program
    .command('squash')
    .description("write one migration that replaces a service's migrations up to NAME (static replaces)")
    .requiredOption('--service <name>', 'the service whose migrations to squash')
    .option('--to <name>', "the last migration to replace (default: the service's newest)")
    .requiredOption('-m, --message <msg>', 'what the squash is (becomes the file slug)')
    .option('--drop-data-migrations', 'replace data migrations too; a fresh database will not run them')
    .action(async (opts) => {
      const result = await api.squash({}, { service: opts.service, to: opts.to, message: opts.message, dropDataMigrations: opts.dropDataMigrations });
      print(`Created ${relative(process.cwd(), result.file) || result.file}: ${result.statements} statements, replaces ${result.replaces.length} migrations of ${opts.service} (${result.replaces[0]} … ${result.replaces.at(-1)})`);
      for (const name of result.droppedDataMigrations) note(`  data migration ${name} is left out: a fresh database will not run it`);
      note('Databases that have the replaced migrations record it without running it; `migrate check` says when their files can be deleted.');
    });
}
