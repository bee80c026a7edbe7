/** `migrate sql NAME [--down]`: a migration's SQL, applied or not, without a database (Django's sqlmigrate). */
import type { Command } from 'commander';
import * as api from '../../api.ts';
import { print } from '../output.ts';

export function register(program: Command): void {
  program
    .command('sql')
    .description("print a migration's SQL (up, or --down), applied or not; no database needed")
    .argument('<name>', 'a migration name (with or without .ts)')
    .option('--down', "print down()'s SQL instead of up()'s")
    .action(async (name: string, opts) => {
      const result = await api.sql({}, name, { down: opts.down });
      print(`-- ${result.name} (${result.direction})`);
      for (const query of result.directQueries) print(`-- it also sends this query itself when it runs (outside the SQL below; without a database it was answered with no rows): ${query}`);
      for (const statement of result.statements) print(statement.endsWith(';') ? statement : `${statement};`);
      if (result.statements.length === 0 && result.directQueries.length === 0) print(`-- ${result.direction}() collects no SQL`);
    });
}
