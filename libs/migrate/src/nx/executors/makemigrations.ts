/** `makemigrations` executor: the CLI's `migrate makemigrations` for this project's service (or the stream). */
import type { ExecutorContext } from '@nx/devkit';
import { runMakemigrations } from '../../cli/verbs.ts';
import { runVerb } from './scope.ts';

export interface MakemigrationsExecutorOptions {
  message?: string;
  empty?: boolean;
  check?: boolean;
  dryRun?: boolean;
  service?: string | string[];
}

export default function makemigrationsExecutor(options: MakemigrationsExecutorOptions, context: ExecutorContext) {
  return runVerb(context, options.service, ({ target, services }) =>
    runMakemigrations(target, { message: options.message, services, empty: options.empty, check: options.check, dryRun: options.dryRun }),
  );
}
