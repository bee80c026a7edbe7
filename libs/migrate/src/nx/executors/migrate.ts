/** `migrate` executor: the CLI's `migrate migrate` for this project's service (and what it depends on), or the whole stream. */
import type { ExecutorContext } from '@nx/devkit';
import { fanOutFlags, migrateOptions } from '../../cli/options.ts';
import { runMigrateTargets } from '../../cli/targets.ts';
import { runMigrate } from '../../cli/verbs.ts';
import { runVerb } from './scope.ts';

/** The schema's properties: `cli/options.ts` (COMMAND_FLAGS.migrate) defines them. */
export type MigrateExecutorOptions = Record<string, any> & { service?: string | string[]; targets?: string };

export default function migrateExecutor(options: MigrateExecutorOptions, context: ExecutorContext) {
  return runVerb(context, options.service, ({ target, services }) => {
    const migrate = migrateOptions(options, services);
    return options.targets ? runMigrateTargets(fanOutFlags(options, context.root), migrate) : runMigrate(target, migrate);
  });
}
