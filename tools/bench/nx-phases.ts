/**
 * Splits a cold `nx run-many -t migrate-check` into Nx's part and ours, timed from outside our
 * code by a preload in every process Nx starts: Nx until it forks the batch worker, the worker's
 * start until it requires our executor, our executor until its first task result, and the rest
 * until Nx exits. Nx's own share is everything but the executor's.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv } from './measure.ts';

export const PHASES = ['nx until fork', 'worker until executor', 'executor until first result', 'first result until exit', 'run-many'] as const;
export type Phase = (typeof PHASES)[number];

const preloadSource = (log: string) => `
const { appendFileSync } = require('node:fs');
const stamp = (what) => appendFileSync(${JSON.stringify(log)}, (performance.timeOrigin + performance.now()).toFixed(1) + ' ' + what + '\\n');
const role = process.env.NX_FORKED_TASK_EXECUTOR ? 'worker' : 'main';
appendFileSync(${JSON.stringify(log)}, performance.timeOrigin.toFixed(1) + ' ' + role + '-start\\n');
process.on('exit', () => stamp(role + '-exit'));
if (role === 'worker') {
  const M = require('node:module'); const require0 = M.prototype.require;
  M.prototype.require = function (id) { if (/executors\\/check-batch/.test(id)) stamp('executor-required'); return require0.apply(this, arguments); };
} else {
  const cp = require('node:child_process'); const fork = cp.fork; let first = true;
  cp.fork = function () { const child = fork.apply(this, arguments); child.on('message', () => { if (first) { first = false; stamp('first-result'); } }); return child; };
}
`;

/**
 * Each phase's time in each of `runs` cold run-manys in `dir` (`cold` resets the caches before
 * each; `between` runs untimed after each, e.g. the command they alternate with).
 */
export function coldRunManyPhases(dir: string, runs: number, cold: () => void, between?: () => void): Record<Phase, number[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'tributary-nx-phases-'));
  const log = join(scratch, 'stamps.log');
  const preload = join(scratch, 'stamp.cjs');
  const output = join(scratch, 'nx.out');
  writeFileSync(preload, preloadSource(log));
  const phases = Object.fromEntries(PHASES.map((phase) => [phase, [] as number[]])) as Record<Phase, number[]>;
  try {
    for (let run = 0; run < runs; run++) {
      cold();
      rmSync(log, { force: true });
      // Output to a file, not a pipe: Nx ends with process.exit(), which can cut a pipe's last writes.
      const fd = openSync(output, 'w');
      try {
        spawnSync(process.execPath, [join(dir, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'migrate-check', '--outputStyle=static'], { cwd: dir, env: childEnv({ NODE_OPTIONS: `--require ${preload}` }), stdio: ['ignore', fd, fd] });
      } finally {
        closeSync(fd);
      }
      const printed = readFileSync(output, 'utf8');
      if (!/Successfully ran target migrate-check/.test(printed)) throw new Error(`nx run-many failed:\n${printed}`);
      // Times in ms since the epoch (performance.timeOrigin): comparable across the processes.
      const at = Object.fromEntries(readFileSync(log, 'utf8').trim().split('\n').map((line) => [line.split(' ')[1]!, Number(line.split(' ')[0])]));
      phases['nx until fork'].push(at['worker-start']! - at['main-start']!);
      phases['worker until executor'].push(at['executor-required']! - at['worker-start']!);
      phases['executor until first result'].push(at['first-result']! - at['executor-required']!);
      phases['first result until exit'].push(at['main-exit']! - at['first-result']!);
      phases['run-many'].push(at['main-exit']! - at['main-start']!);
      between?.();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return phases;
}

/** Nx's own share of each cold run-many: everything but our executor's work. */
export function nxShareRuns(phases: Record<Phase, number[]>): number[] {
  return phases['run-many'].map((total, run) => total - phases['executor until first result'][run]!);
}
