/**
 * `check` executor, behind `migrate-check` (cached, offline) and `migrations:check`: the CLI's
 * `migrate check --offline`, or with `db` the full check against the database.
 */
import type { ExecutorContext } from '@nx/devkit';
import { runCheck } from '../../cli/verbs.ts';
import { runVerb } from './scope.ts';

export interface CheckExecutorOptions {
  /** Also check the database: pending, out of order, edited after being applied. */
  db?: boolean;
  since?: string;
  json?: boolean;
  service?: string | string[];
}

export default function checkExecutor(options: CheckExecutorOptions, context: ExecutorContext) {
  return runVerb(context, options.service, ({ target, services }) =>
    runCheck(target, { services, offline: !options.db, since: options.since, json: options.json }),
  );
}
