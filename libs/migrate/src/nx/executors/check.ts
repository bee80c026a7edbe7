/**
 * `check` executor, behind `migrate-check` (cached, offline) and `migrations:check`: the CLI's
 * `migrate check --offline`, or with `db` the full check against the database. Nx normally hands
 * every `migrate-check` task of a run to `check-batch.ts` in one process (`preferBatch`); this
 * entry runs one task (`--batch=false`), with the same answer and output.
 */
import { enableCompileCache } from 'node:module';
import type { ExecutorContext } from '@nx/devkit';
import type { CheckExecutorOptions } from './check-tasks.ts';

export type { CheckExecutorOptions } from './check-tasks.ts';

// Nx runs executors in a fresh process: load the library through Node's on-disk compile cache
// (type stripping and V8 code, keyed by content) as the `migrate` bin does, hence the lazy import.
enableCompileCache?.();

export default async function checkExecutor(options: CheckExecutorOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const { checkTasks } = await import('./check-tasks.ts');
  const outcome = (await checkTasks([{ id: 'task', context, options }], context)).get('task')!;
  outcome.show();
  return { success: outcome.success };
}
