/**
 * The `--targets` forms of migrate, showmigrations and check as the CLI shows them: a listr2
 * view on a terminal (one line per running target, counts, ETA), one plain line per finished
 * target otherwise, or one JSON document with `--json`. URLs are masked by the library already.
 */
import { Listr } from 'listr2';
import * as api from '../api.ts';
import type { CheckOptions } from '../checks/check.ts';
import type { MigrateOptions } from '../executor/migrate.ts';
import type { FanOutEvent, FanOutOptions, MigrateTargetsResult, TargetResult } from '../targets/fan-out.ts';
import { formatMs, interactive, note, print, printJson } from './output.ts';

export interface TargetsFlags {
  targets: string;
  concurrency?: number;
  json?: boolean;
  cwd?: string;
}

const MARKS: Record<TargetResult['status'], string> = { migrated: '✓', 'up-to-date': '=', failed: '✗', 'not-started': '·' };

function describeResult(result: TargetResult): string {
  const what = result.status === 'migrated' ? `migrated (${result.applied} applied)` : result.status === 'failed' && result.applied ? `failed after ${result.applied} applied` : result.status;
  return `${MARKS[result.status]} ${result.target}: ${what}${result.error ? ` — ${result.error}` : ''}`;
}

/** Counts so far and, once a few targets finished, the time left at the pace so far. */
class Tally {
  readonly #started = Date.now();
  readonly #total: number;
  readonly #running = new Map<string, string>();
  readonly counts = { migrated: 0, 'up-to-date': 0, failed: 0, 'not-started': 0 };
  done = 0;

  constructor(total: number) {
    this.#total = total;
  }

  see(event: FanOutEvent): void {
    if (event.type === 'start') this.#running.set(event.target, 'checking');
    if (event.type === 'waiting-for-lock') this.#running.set(event.target, 'waiting for its migration lock');
    if (event.type === 'applying') this.#running.set(event.target, `applying ${event.index + 1}/${event.total} ${event.migration}`);
    if (event.type === 'finish') {
      this.#running.delete(event.result.target);
      this.counts[event.result.status]++;
      this.done++;
    }
  }

  get title(): string {
    const c = this.counts;
    const elapsed = Date.now() - this.#started;
    const eta = this.done > 0 && this.done < this.#total ? `, ETA ${formatMs((elapsed / this.done) * (this.#total - this.done))}` : '';
    return `Targets ${this.done}/${this.#total}: ${c.migrated} migrated, ${c['up-to-date']} up to date, ${c.failed} failed, ${this.#running.size} running${eta}`;
  }

  get running(): string {
    return [...this.#running].map(([target, doing]) => `${target}: ${doing}`).join('\n');
  }
}

export async function runMigrateTargets(flags: TargetsFlags & Omit<FanOutOptions, 'onEvent'>, migrate: MigrateOptions): Promise<boolean> {
  const options = { targets: flags.targets, cwd: flags.cwd, concurrency: flags.concurrency, canary: flags.canary, continueOnError: flags.continueOnError, migrate };
  let result: MigrateTargetsResult;
  if (flags.json) {
    result = await api.migrateTargets(options);
    printJson(result);
  } else if (interactive()) {
    result = await withTargetsView((onEvent) => api.migrateTargets({ ...options, onEvent }));
    for (const target of result.targets.filter((t) => t.status === 'failed' || t.error)) note(describeResult(target));
  } else {
    result = await api.migrateTargets({
      ...options,
      onEvent: (event) => {
        if (event.type === 'finish') print(describeResult(event.result));
        if (event.type === 'stopping') note(`Stopping: ${event.reason}; running targets finish their current migration.`);
      },
    });
  }
  if (!flags.json) print(`Targets: ${result.migrated} migrated, ${result.upToDate} up to date, ${result.failed} failed, ${result.notStarted} not started.`);
  return result.failed === 0;
}

/** The listr2 view: the title carries the counts and ETA, the output one line per running target. */
async function withTargetsView(work: (onEvent: (event: FanOutEvent) => void) => Promise<MigrateTargetsResult>): Promise<MigrateTargetsResult> {
  let result: MigrateTargetsResult;
  await new Listr(
    [
      {
        title: 'Targets',
        task: async (_ctx, task) => {
          let tally: Tally | undefined;
          result = await work((event) => {
            if (event.type === 'start') tally ??= new Tally(event.total);
            if (!tally) return;
            tally.see(event);
            task.title = tally.title;
            task.output = tally.running || ' ';
          });
          task.title = `Targets: ${result.migrated} migrated, ${result.upToDate} up to date, ${result.failed} failed, ${result.notStarted} not started`;
        },
        rendererOptions: { persistentOutput: false, outputBar: Infinity },
      },
    ],
    { exitOnError: true, rendererOptions: { collapseErrors: true } },
  ).run();
  return result!;
}

export async function runShowmigrationsTargets(flags: TargetsFlags, options: { services?: string[] }): Promise<boolean> {
  const status = await api.showmigrationsTargets({ targets: flags.targets, cwd: flags.cwd, concurrency: flags.concurrency, services: options.services });
  if (flags.json) {
    printJson(status);
  } else {
    for (const t of status.targets) {
      if (t.failed) print(`✗ ${t.target}: failed — ${t.failed}`);
      else print(`${t.pending ? '⏳' : '✅'} ${t.target}: ${t.applied} applied, ${t.pending} pending, head ${t.head ?? '(none)'}`);
    }
    print(`\nSummary: ${status.atHead} at head, ${status.behind} behind, ${status.failed} failed, ${status.targets.length} targets`);
  }
  return status.failed === 0;
}

export async function runCheckTargets(flags: TargetsFlags, options: CheckOptions): Promise<boolean> {
  const report = await api.checkTargets({ ...options, targets: flags.targets, cwd: flags.cwd, concurrency: flags.concurrency });
  showTargetsCheck(report, flags.json);
  return report.ok;
}

/** `check --targets` output: the workspace's problems, then each target that is not at the head with why. */
export function showTargetsCheck(report: api.TargetsCheckReport, json: boolean | undefined): void {
  if (json) return printJson(report);
  for (const problem of report.problems) note(`✗ ${problem.message}`);
  for (const t of report.targets.filter((target) => !target.ok)) {
    note(`✗ ${t.target}: ${t.error ?? `${t.problems.length} problem${t.problems.length === 1 ? '' : 's'}`}`);
    for (const problem of t.problems) note(`    ${problem.message}`);
  }
  for (const item of report.notes) note(`ℹ ${item.message}`);
  print(report.ok ? `Check passed: ${report.atHead} targets at head.` : `Check failed: ${report.problems.length} workspace problem(s); ${report.behind} target(s) behind or inconsistent, ${report.failed} failed, ${report.atHead} at head.`);
}
