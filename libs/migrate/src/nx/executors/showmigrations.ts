/** `showmigrations` executor: the CLI's `migrate showmigrations` for this project's service, or the whole stream. */
import type { ExecutorContext } from '@nx/devkit';
import { fanOutFlags } from '../../cli/options.ts';
import { runShowmigrationsTargets } from '../../cli/targets.ts';
import { runShowmigrations } from '../../cli/verbs.ts';
import { runVerb } from './scope.ts';

/** The schema's properties: `cli/options.ts` (COMMAND_FLAGS.showmigrations) defines them. */
export type ShowmigrationsExecutorOptions = Record<string, any> & { service?: string | string[]; targets?: string; json?: boolean };

export default function showmigrationsExecutor(options: ShowmigrationsExecutorOptions, context: ExecutorContext) {
  return runVerb(context, options.service, ({ target, services }) =>
    options.targets ? runShowmigrationsTargets(fanOutFlags(options, context.root), { services }) : runShowmigrations(target, { services, json: options.json }),
  );
}
