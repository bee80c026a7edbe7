/** `makemigrations` executor: the CLI's `migrate makemigrations` for this project's service (or the stream). */
import type { ExecutorContext } from '@nx/devkit';
import { makemigrationsOptions } from '../../cli/options.ts';
import { runMakemigrations } from '../../cli/verbs.ts';
import { runVerb } from './scope.ts';

/** The schema's properties: `cli/options.ts` (COMMAND_FLAGS.makemigrations) defines them. */
export type MakemigrationsExecutorOptions = Record<string, any> & { service?: string | string[] };

export default function makemigrationsExecutor(options: MakemigrationsExecutorOptions, context: ExecutorContext) {
  return runVerb(context, options.service, ({ target, services }) => runMakemigrations(target, makemigrationsOptions(options, services)));
}
