/**
 * The fan-out runner: one stream to many target databases, `concurrency` at a time in this
 * process, one target per worker. Each target is probed in one query first (at the head: skipped,
 * no lock); the others go through the single-database `migrate` — their own lock, history table
 * and guarantees. Canaries go first; without `continueOnError` a failure stops new targets from
 * starting and running ones from starting their next migration. Rerunning resumes: each target
 * carries on from its own history.
 */
import type { TributaryConfig } from '../config/config.ts';
import { maskUrl, redactSecrets } from '../db/urls.ts';
import { describeError } from '../errors.ts';
import type { MigrateEvents, MigrateOptions, MigrateResult } from '../executor/migrate.ts';
import { readStream } from '../stream/stream.ts';
import { probeTarget, streamHead, type ProbeResult, type StreamHead } from './probe.ts';

export type TargetStatus = 'migrated' | 'up-to-date' | 'failed' | 'not-started';

/** One target as `migrate --targets --json` prints it. */
export interface TargetResult {
  /** The URL with its password masked. */
  target: string;
  status: TargetStatus;
  applied: number;
  error: string | null;
}

export interface MigrateTargetsResult {
  targets: TargetResult[];
  migrated: number;
  upToDate: number;
  failed: number;
  notStarted: number;
}

export type FanOutEvent =
  | { type: 'start'; target: string; index: number; total: number }
  | { type: 'waiting-for-lock'; target: string }
  | { type: 'applying'; target: string; migration: string; index: number; total: number }
  | { type: 'applied'; target: string; migration: string; ms: number }
  | { type: 'finish'; result: TargetResult }
  | { type: 'stopping'; reason: string };

export interface FanOutOptions {
  /** Targets worked on at once (default 4). */
  concurrency?: number;
  /** Migrate the first N targets first; the rest only if all of them succeed. */
  canary?: number;
  /** Try every target even after one fails. */
  continueOnError?: boolean;
  onEvent?: (event: FanOutEvent) => void;
}

/** The single-database migrate of one target (api.ts gives it the workspace). */
export type MigrateOne = (url: string, options: MigrateOptions, events: MigrateEvents) => Promise<MigrateResult>;

export const DEFAULT_CONCURRENCY = 4;

/** Runs `work` over `items`, at most `concurrency` at once, starting none once `keepGoing` says no. */
export async function runBounded<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>, keepGoing: () => boolean = () => true): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && keepGoing()) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

export async function migrateTargets(config: TributaryConfig, urls: string[], migrateOne: MigrateOne, options: FanOutOptions & { migrate?: MigrateOptions } = {}): Promise<MigrateTargetsResult> {
  const head = streamHead(readStream(config.migrationsDir));
  const emit = options.onEvent ?? (() => {});
  const stop = new AbortController();
  const results: TargetResult[] = urls.map((url) => ({ target: maskUrl(url), status: 'not-started', applied: 0, error: null }));
  const canaries = Math.min(options.canary ?? 0, urls.length);
  const stopWith = (reason: string) => {
    if (stop.signal.aborted) return;
    stop.abort();
    emit({ type: 'stopping', reason });
  };

  const runTarget = async (index: number) => {
    const url = urls[index]!;
    const target = results[index]!.target;
    emit({ type: 'start', target, index, total: urls.length });
    let outcome: TargetResult;
    let appliedHere = 0; // counted as they commit, so a target failing half-way still says how far it got
    try {
      if ((await probeTarget(url, config, head)).atHead) {
        outcome = { target, status: 'up-to-date', applied: 0, error: null };
      } else {
        const result = await migrateOne(url, { ...options.migrate, stop: stop.signal }, {
          waitingForLock: () => emit({ type: 'waiting-for-lock', target }),
          applying: (migration, i, total) => emit({ type: 'applying', target, migration, index: i, total }),
          applied: (migration, ms) => {
            appliedHere++;
            emit({ type: 'applied', target, migration, ms });
          },
        });
        const applied = result.applied.length;
        const stopped = result.stoppedBefore ? `stopped with ${result.stoppedBefore} migration${result.stoppedBefore === 1 ? '' : 's'} left because the run stopped after a failure; rerun to continue` : null;
        outcome = { target, status: applied > 0 ? 'migrated' : stopped ? 'not-started' : 'up-to-date', applied, error: stopped };
      }
    } catch (error) {
      outcome = { target, status: 'failed', applied: appliedHere, error: redactSecrets(describeError(error)) };
      // A failed canary stops the run whatever --continue-on-error says: that is what canaries are for.
      if (index < canaries) stopWith(`canary ${target} failed; the ${urls.length - canaries} other targets are not started`);
      else if (!options.continueOnError) stopWith(`${target} failed`);
    }
    results[index] = outcome;
    emit({ type: 'finish', result: outcome });
  };

  const indexes = urls.map((_, i) => i);
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const keepGoing = () => !stop.signal.aborted;
  // The canaries all finish before any other target starts.
  await runBounded(indexes.slice(0, canaries), concurrency, runTarget, keepGoing);
  await runBounded(indexes.slice(canaries), concurrency, runTarget, keepGoing);
  return summarize(results);
}

function summarize(targets: TargetResult[]): MigrateTargetsResult {
  const count = (status: TargetStatus) => targets.filter((t) => t.status === status).length;
  return { targets, migrated: count('migrated'), upToDate: count('up-to-date'), failed: count('failed'), notStarted: count('not-started') };
}

/** Every target probed (`concurrency` at once), those not at the head handed to `inspect`: showmigrations and check. */
export async function surveyTargets<R>(
  config: TributaryConfig,
  urls: string[],
  concurrency: number,
  inspect: (url: string, probe: ProbeResult, head: StreamHead) => Promise<R>,
): Promise<Array<{ target: string; probe: ProbeResult | null; detail: R | null; error: string | null }>> {
  const head = streamHead(readStream(config.migrationsDir));
  const results = urls.map((url) => ({ target: maskUrl(url), probe: null as ProbeResult | null, detail: null as R | null, error: null as string | null }));
  await runBounded(urls.map((_, i) => i), concurrency, async (index) => {
    const result = results[index]!;
    try {
      result.probe = await probeTarget(urls[index]!, config, head);
      if (!result.probe.atHead) result.detail = await inspect(urls[index]!, result.probe, head);
    } catch (error) {
      result.error = redactSecrets(describeError(error));
    }
  });
  return results;
}
