/**
 * The `check` executor's batch implementation: Nx hands it every `migrate-check` task of a run
 * in one process (`preferBatch` in executors.json), so Node, the ORM and every service's models
 * load once instead of once per service. Each task still gets its own result and output, which
 * Nx caches per task.
 */
import { enableCompileCache } from 'node:module';
import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import type { CheckExecutorOptions } from './check-tasks.ts';

// As in check.ts: the library loads through Node's compile cache, hence the lazy import.
enableCompileCache?.();

export interface BatchTaskResult {
  success: boolean;
  terminalOutput: string;
  startTime: number;
  endTime: number;
}

/** Yields each task's result: Nx prints a task's output, and records its status, as its result arrives. */
export default async function* checkBatch(taskGraph: TaskGraph, inputs: Record<string, CheckExecutorOptions>, _overrides: unknown, context: ExecutorContext): AsyncGenerator<{ task: string; result: BatchTaskResult }> {
  const startTime = Date.now();
  const tasks = Object.values(taskGraph.tasks).map((task) => ({
    id: task.id,
    context: { ...context, projectName: task.target.project, targetName: task.target.target, configurationName: task.target.configuration },
    options: inputs[task.id] ?? {},
  }));
  const { captured, checkTasks } = await import('./check-tasks.ts');
  const outcomes = await checkTasks(tasks, context);
  const endTime = Date.now();
  for (const { id } of tasks) {
    const outcome = outcomes.get(id)!;
    yield { task: id, result: { success: outcome.success, terminalOutput: captured(outcome.show), startTime, endTime } };
  }
}
