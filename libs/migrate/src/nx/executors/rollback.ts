/** `rollback` executor: the CLI's `migrate rollback` for this project's service, or the whole stream. */
import type { ExecutorContext } from '@nx/devkit';
import { runRollback } from '../../cli/verbs.ts';
import { TributaryError } from '../../errors.ts';
import { runVerb } from './scope.ts';

export interface RollbackExecutorOptions {
  steps?: number;
  to?: string;
  dryRun?: boolean;
  fake?: boolean;
  service?: string;
}

export default function rollbackExecutor(options: RollbackExecutorOptions, context: ExecutorContext) {
  return runVerb(context, options.service, ({ target, services }) => {
    if (services && services.length > 1) throw new TributaryError(`rollback reverts one service's migrations at a time; got --service ${services.join(', ')}.`);
    return runRollback(target, { steps: options.steps, to: options.to, service: services?.[0], dryRun: options.dryRun, fake: options.fake });
  });
}
