/** `migrate` executor: the CLI's `migrate migrate` for this project's service (and what it depends on), or the whole stream. */
import type { ExecutorContext } from '@nx/devkit';
import { runMigrate } from '../../cli/verbs.ts';
import { runVerb } from './scope.ts';

export interface MigrateExecutorOptions {
  to?: string;
  dryRun?: boolean;
  fake?: boolean;
  allowOutOfOrder?: boolean;
  lockWait?: number;
  lockRetries?: number;
  lockTimeout?: string;
  statementTimeout?: string;
  atomic?: boolean;
  backup?: boolean;
  allowDestructive?: boolean;
  service?: string | string[];
}

export default function migrateExecutor(options: MigrateExecutorOptions, context: ExecutorContext) {
  return runVerb(context, options.service, ({ target, services }) =>
    runMigrate(target, {
      services,
      to: options.to,
      dryRun: options.dryRun,
      fake: options.fake,
      allowOutOfOrder: options.allowOutOfOrder,
      lockWaitSeconds: options.lockWait,
      lockRetries: options.lockRetries,
      lockTimeout: options.lockTimeout,
      statementTimeout: options.statementTimeout,
      atomic: options.atomic,
      backup: options.backup,
      allowDestructive: options.allowDestructive,
    }),
  );
}
