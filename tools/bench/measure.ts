/**
 * Measures whole processes: wall time from spawn to exit and peak RSS (from /usr/bin/time), and
 * compares two commands by alternating them pair after pair, reporting the median of the
 * per-pair ratios. A run that exits non-zero, or fails its `verify`, aborts the benchmark.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Command {
  label: string;
  cmd: string;
  args: string[];
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Runs before the command, untimed: resets the state the command changes. */
  prepare?: () => void | Promise<void>;
  /** Throws when the run did not do its job (wrong output, nothing written, …). */
  verify?: (run: Run) => void | Promise<void>;
}

export interface Run {
  wallMs: number;
  /** Peak resident set size of the process, in MB. */
  rssMb: number;
  stdout: string;
  stderr: string;
}

export interface Sample {
  /** Median wall time and the peak RSS seen over the runs. */
  wallMs: number;
  rssMb: number;
  runs: number[];
}

export interface Comparison {
  ours: Sample;
  baseline: Sample;
  /** Median of ours / baseline over the pairs (wall time). */
  ratio: number;
  ratios: number[];
}

const TIME = '/usr/bin/time';
let scratchDir: string | undefined;
/** Where runs leave their output and RSS files: made on first use, removed at exit. */
function scratch(): string {
  if (!scratchDir) {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-time-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    scratchDir = dir;
  }
  return scratchDir;
}

export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0', NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
  for (const key of ['DATABASE_URL', 'NODE_OPTIONS', 'npm_lifecycle_event']) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export async function runOnce(command: Command): Promise<Run> {
  await command.prepare?.();
  const useTime = existsSync(TIME);
  const rssFile = join(scratch(), `rss-${process.hrtime.bigint()}`);
  const [cmd, args] = useTime ? [TIME, ['-f', '%M', '-o', rssFile, command.cmd, ...command.args]] : [command.cmd, command.args];
  // Output goes to files, not pipes: a child that calls process.exit() (Nx does) loses piped
  // output it had not flushed yet, and files cost the parent nothing while it measures.
  const outFile = `${rssFile}.out`;
  const errFile = `${rssFile}.err`;
  const [out, err] = [openSync(outFile, 'w'), openSync(errFile, 'w')];
  const started = performance.now();
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: command.cwd, env: childEnv(command.env), stdio: ['ignore', out, err] });
    child.on('error', reject);
    child.on('close', (exitCode) => resolve(exitCode ?? 1));
  });
  const wallMs = performance.now() - started;
  closeSync(out);
  closeSync(err);
  const [stdout, stderr] = [readFileSync(outFile, 'utf8'), readFileSync(errFile, 'utf8')];
  rmSync(outFile, { force: true });
  rmSync(errFile, { force: true });
  let rssMb = Number.NaN;
  if (useTime && existsSync(rssFile)) {
    rssMb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) / 1024;
    rmSync(rssFile, { force: true });
  }
  if (code !== 0) {
    throw new Error(`bench: ${command.label} exited with ${code}\n$ ${command.cmd} ${command.args.join(' ')}\n${stderr.slice(-2000)}${stdout.slice(-1000)}`);
  }
  const run = { wallMs, rssMb, stdout, stderr };
  await command.verify?.(run);
  return run;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function sample(runs: Run[]): Sample {
  return { wallMs: median(runs.map((r) => r.wallMs)), rssMb: Math.max(...runs.map((r) => r.rssMb)), runs: runs.map((r) => Math.round(r.wallMs)) };
}

/** Runs `command` `times` times (after one untimed warm-up of the file-system cache). */
export async function measure(command: Command, times: number, warmUp = true): Promise<Sample> {
  if (warmUp) await runOnce(command);
  const runs: Run[] = [];
  for (let i = 0; i < times; i++) runs.push(await runOnce(command));
  return sample(runs);
}

/**
 * Alternates the two commands `pairs` times — ours first in even pairs, the baseline first in
 * odd ones, so that neither always runs on a warmer machine — after one untimed warm-up each
 * (file-system and compile caches), unless `warmUp` is false.
 */
export async function compare(ours: Command, baseline: Command, pairs: number, warmUp = true): Promise<Comparison> {
  if (warmUp) {
    await runOnce(ours);
    await runOnce(baseline);
  }
  const mine: Run[] = [];
  const theirs: Run[] = [];
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      mine.push(await runOnce(ours));
      theirs.push(await runOnce(baseline));
    } else {
      theirs.push(await runOnce(baseline));
      mine.push(await runOnce(ours));
    }
  }
  const ratios = mine.map((run, i) => run.wallMs / theirs[i]!.wallMs);
  return { ours: sample(mine), baseline: sample(theirs), ratio: median(ratios), ratios: ratios.map((r) => Math.round(r * 1000) / 1000) };
}
