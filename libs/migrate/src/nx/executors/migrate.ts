/** `migrate` executor: the CLI's `migrate migrate` for this project's service (and what it depends on), or the whole stream. */
import type { ExecutorContext } from '@nx/devkit';
import { runMigrate } from '../../cli/verbs.ts';
import { runMigrateTargets } from '../../cli/targets.ts';
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
  /** A targets file or group: migrate every database of it (`migrate --targets`). */
  targets?: string;
  concurrency?: number;
  canary?: number;
  continueOnError?: boolean;
  /** With targets: print one JSON document. */
  json?: boolean;
}

export default function migrateExecutor(options: MigrateExecutorOptions, context: ExecutorContext) {
  return runVerb(context, options.service, ({ target, services }) => {
    const migrate = {
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
    };
    if (!options.targets) return runMigrate(target, migrate);
    const flags = { targets: options.targets, cwd: context.root, concurrency: options.concurrency, canary: options.canary, continueOnError: options.continueOnError, json: options.json };
    return runMigrateTargets(flags, migrate);
  });
}
