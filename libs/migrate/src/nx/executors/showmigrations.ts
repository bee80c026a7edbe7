/** `showmigrations` executor: the CLI's `migrate showmigrations` for this project's service, or the whole stream. */
import type { ExecutorContext } from '@nx/devkit';
import { runShowmigrations } from '../../cli/verbs.ts';
import { runShowmigrationsTargets } from '../../cli/targets.ts';
import { runVerb } from './scope.ts';

export interface ShowmigrationsExecutorOptions {
  json?: boolean;
  service?: string | string[];
  /** Every database of this targets file or group (`showmigrations --targets`). */
  targets?: string;
  concurrency?: number;
}

export default function showmigrationsExecutor(options: ShowmigrationsExecutorOptions, context: ExecutorContext) {
  return runVerb(context, options.service, ({ target, services }) =>
    options.targets
      ? runShowmigrationsTargets({ targets: options.targets, cwd: context.root, concurrency: options.concurrency, json: options.json }, { services })
      : runShowmigrations(target, { services, json: options.json }),
  );
}
