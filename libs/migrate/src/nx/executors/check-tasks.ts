/**
 * Answers `check` tasks — one, or a whole Nx batch — from as few checks as possible: tasks that
 * ask the same question (offline, or of the database since a revision) share one `api.check`
 * over the union of their services, so the models load once; each task then gets its own
 * services' problems, output and success.
 */
import type { ExecutorContext } from '@nx/devkit';
import * as api from '../../api.ts';
import type { CheckReport, Problem } from '../../checks/check.ts';
import { note, print, printJson, reportError } from '../../cli/output.ts';
import { showTargetsCheck } from '../../cli/targets.ts';
import { servicesOf, workspaceServices, type WorkspaceServices } from './scope.ts';

export interface CheckExecutorOptions {
  /** Also check the database: pending, out of order, edited after being applied. */
  db?: boolean;
  since?: string;
  json?: boolean;
  service?: string | string[];
  /** Check every database of this targets file or group instead (`check --targets`). */
  targets?: string;
  concurrency?: number;
}

export interface CheckTask {
  id: string;
  context: ExecutorContext;
  options: CheckExecutorOptions;
}

/** A task's answer; `show` prints its output through the CLI's writers. */
export interface Outcome {
  success: boolean;
  show: () => void;
}

export async function checkTasks(tasks: CheckTask[], context: ExecutorContext): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  const failed = (error: unknown, verbose: boolean): Outcome => ({ success: false, show: () => reportError(error, verbose) });
  let workspace: WorkspaceServices;
  try {
    workspace = workspaceServices(context.root);
  } catch (error) {
    for (const task of tasks) outcomes.set(task.id, failed(error, task.context.isVerbose));
    return outcomes;
  }
  // Tasks that ask the same question of the stream (and database) share one check.
  const groups = new Map<string, Array<CheckTask & { services: string[] | undefined }>>();
  for (const task of tasks) {
    try {
      const services = servicesOf(task.context, task.options.service, workspace);
      if (task.options.targets) {
        const report = await api.checkTargets({ targets: task.options.targets, cwd: context.root, concurrency: task.options.concurrency, services, since: task.options.since, remember: false });
        outcomes.set(task.id, { success: report.ok, show: () => showTargetsCheck(report, task.options.json) });
        continue;
      }
      const key = JSON.stringify([Boolean(task.options.db), task.options.since ?? null]);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push({ ...task, services });
    } catch (error) {
      outcomes.set(task.id, failed(error, task.context.isVerbose));
    }
  }
  for (const group of groups.values()) {
    const { db, since } = group[0]!.options;
    const everything = group.some((task) => task.services === undefined);
    const services = everything ? undefined : [...new Set(group.flatMap((task) => task.services!))].sort();
    let database: string | undefined;
    let report: CheckReport;
    try {
      report = await api.check({ cwd: context.root, onDatabase: (label) => (database = label) }, { services, offline: !db, since, remember: false });
    } catch (error) {
      for (const task of group) outcomes.set(task.id, failed(error, task.context.isVerbose));
      continue;
    }
    for (const task of group) {
      const problems = report.problems.filter((problem) => concerns(problem, task.services));
      const own: CheckReport = { ...report, ok: problems.length === 0, problems, warnings: report.warnings.filter((warning) => concerns(warning, task.services)) };
      outcomes.set(task.id, { success: own.ok, show: () => showReport(own, task.options.json, database) });
    }
  }
  return outcomes;
}

/**
 * Whether a problem belongs to a task about `services` (undefined: the whole stream). A service's
 * task reads only its own part of the stream (its cache inputs say so): a stray file in
 * migrations/ is the stream's problem, told by `migrations:check`.
 */
function concerns(problem: Problem, services: string[] | undefined): boolean {
  if (services === undefined) return true;
  if (problem.service) return services.includes(problem.service);
  return problem.kind !== 'stray-file';
}

function showReport(report: CheckReport, json: boolean | undefined, database: string | undefined): void {
  if (json) return printJson(report);
  if (database) note(`Using ${database}`);
  for (const problem of report.problems) note(`✗ ${problem.message}`);
  for (const warning of report.warnings) note(`⚠ ${warning.message}`);
  if (report.database.note) note(`(${report.database.note})`);
  const count = report.problems.length;
  print(report.ok ? 'Check passed.' : `Check failed: ${count} problem${count === 1 ? '' : 's'}.`);
}

/** What `show` writes to stdout and stderr, as one text (a batch task's terminal output). */
export function captured(show: () => void): string {
  const chunks: string[] = [];
  const { stdout, stderr } = process;
  const write = stdout.write;
  const writeErr = stderr.write;
  const collect = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof stdout.write;
  stdout.write = collect;
  stderr.write = collect;
  try {
    show();
  } finally {
    stdout.write = write;
    stderr.write = writeErr;
  }
  return chunks.join('');
}
