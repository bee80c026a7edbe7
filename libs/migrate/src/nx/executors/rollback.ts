/** `rollback` executor: the CLI's `migrate rollback` for this project's service, or the whole stream. */
import type { ExecutorContext } from '@nx/devkit';
import { rollbackOptions } from '../../cli/options.ts';
import { runRollback } from '../../cli/verbs.ts';
import { TributaryError } from '../../errors.ts';
import { runVerb } from './scope.ts';

/** The schema's properties: `cli/options.ts` (COMMAND_FLAGS.rollback) defines them. */
export type RollbackExecutorOptions = Record<string, any> & { service?: string };

export default function rollbackExecutor(options: RollbackExecutorOptions, context: ExecutorContext) {
  return runVerb(context, options.service, ({ target, services }) => {
    if (services && services.length > 1) throw new TributaryError(`rollback reverts one service's migrations at a time; got --service ${services.join(', ')}.`);
    // Nx tasks are not asked: confirmation is the command line's (`--yes` is CLI-only).
    return runRollback(target, { ...rollbackOptions(options, services?.[0]), yes: true });
  });
}
