/**
 * `migrate watch`: watches every service's models folder (recursively), and after each burst of
 * saves (debounced) evaluates the models in a fresh child process (probe.ts) — never with stale,
 * cached modules — reporting the would-be migration per service, or with `apply` writing and
 * applying it. One evaluation runs at a time; saves during one trigger one more afterwards.
 */
import { execFile } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TributaryConfig } from '../config/config.ts';
import { discoverServices, selectServices, type Service } from '../config/services.ts';
import { TributaryError } from '../errors.ts';
import type { ProbeReport } from './probe.ts';

export type { ProbeReport } from './probe.ts';

export interface WatchOptions {
  /** Write and apply the migration on each change (refused when NODE_ENV=production). */
  apply?: boolean;
  /** Slug of the written migrations (`-m`). */
  message?: string;
  /** Only these services' models (default: all). */
  services?: string[];
  /** Quiet time after the last save before evaluating (default 300 ms). */
  debounceMs?: number;
}

export interface WatchEvents {
  /** Model files (relative to the root) saved since the last evaluation. */
  changed?(files: string[]): void;
  /** The outcome of one evaluation; `initial` for the one at start, always a preview. */
  evaluated?(report: ProbeReport, initial: boolean): void;
}

export interface ModelWatcher {
  services: Service[];
  /** Stops watching; waits for an evaluation in progress (never cuts a migration short). */
  close(): Promise<void>;
}

const MODEL_FILE = /\.[mc]?[jt]s$/;
const NOT_MODEL = /(\.d\.ts|\.(test|spec)\.[mc]?[jt]s)$/;
// probe.ts here, probe.js in the published build.
const PROBE = fileURLToPath(new URL(`./probe${extname(import.meta.url)}`, import.meta.url));

export function assertApplyAllowed(env: NodeJS.ProcessEnv = process.env): void {
  if (env.NODE_ENV === 'production') {
    throw new TributaryError('migrate watch --apply refuses to run with NODE_ENV=production: deploy migrations with `migrate migrate` instead.');
  }
}

export function watchModels(config: TributaryConfig, options: WatchOptions = {}, events: WatchEvents = {}): ModelWatcher {
  if (options.apply) assertApplyAllowed();
  const services = selectServices(discoverServices(config), options.services);
  if (services.length === 0) throw new TributaryError(`No services to watch in ${config.root}: a service is a project folder with src/db/models/.`);

  const saved = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const evaluate = (initial: boolean): Promise<void> => {
    const args = [PROBE, ...(options.apply && !initial ? ['--apply'] : []), ...(options.message ? ['--message', options.message] : []), ...(options.services ?? []).flatMap((s) => ['--service', s])];
    return new Promise((resolve) => {
      execFile(process.execPath, args, { cwd: config.root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (!closed) events.evaluated?.(parseReport(stdout, stderr, error), initial);
        resolve();
      });
    });
  };

  // One evaluation at a time: saves during one are gathered and evaluated right after it.
  const run = (initial = false) => {
    if (running) {
      again = true;
      return;
    }
    if (!initial) {
      const files = [...saved].sort();
      saved.clear();
      events.changed?.(files);
    }
    running = evaluate(initial).then(() => {
      running = undefined;
      if (again && !closed) {
        again = false;
        run();
      }
    });
  };

  const watchers: FSWatcher[] = services.map((service) =>
    watch(service.modelsDir, { recursive: true }, (_event, filename) => {
      if (closed || !filename || !MODEL_FILE.test(filename) || NOT_MODEL.test(filename)) return;
      saved.add(relative(config.root, join(service.modelsDir, filename)));
      clearTimeout(timer);
      timer = setTimeout(() => run(), options.debounceMs ?? 300);
    }),
  );

  run(true);

  return {
    services,
    close: async () => {
      closed = true;
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
      await running;
    },
  };
}

function parseReport(stdout: string, stderr: string, error: Error | null): ProbeReport {
  try {
    return JSON.parse(stdout) as ProbeReport;
  } catch {
    const why = stderr.trim().split('\n')[0] || error?.message || 'no output';
    return { files: [], written: false, applied: [], error: `evaluating the models failed: ${why}` };
  }
}
