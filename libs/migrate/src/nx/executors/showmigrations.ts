/** `showmigrations` executor: the CLI's `migrate showmigrations` for this project's service, or the whole stream. */
import type { ExecutorContext } from '@nx/devkit';
import { runShowmigrations } from '../../cli/verbs.ts';
import { runVerb } from './scope.ts';

export interface ShowmigrationsExecutorOptions {
  json?: boolean;
  service?: string | string[];
}

export default function showmigrationsExecutor(options: ShowmigrationsExecutorOptions, context: ExecutorContext) {
  return runVerb(context, options.service, ({ target, services }) => runShowmigrations(target, { services, json: options.json }));
}
