/**
 * Where a cold `nx run-many -t migrate-check` spends its time beyond one `migrate check
 * --offline`: builds the nx scenario's workspace (as tools/bench/scenarios/nx.ts does, or reuses
 * one), then alternates cold run-manys and cold checks and prints median phases, timed from
 * outside our code by a preload in every process: Nx until it forks the batch worker, the
 * worker's start until it requires our executor, our executor until its first task result,
 * and the rest until Nx exits.
 *
 * Usage: node nx-phases.ts [services=50] [runs=5] [workspace to reuse]   (keeps the workspace; prints its path)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATE_BIN } from '../scenarios/context.ts';
import { generateWorkspace } from '../workspace.ts';

const services = Number(process.argv[2] ?? 50);
const runs = Number(process.argv[3] ?? 5);
let dir = process.argv[4];
if (!dir) {
  dir = generateWorkspace(`nx-phases-${services}`, { services, entitiesPerService: 2 }).dir;
  execFileSync(process.execPath, [join(dir, 'node_modules/nx/dist/bin/nx.js'), 'g', '@tributary/migrate:init'], { cwd: dir, stdio: 'ignore' });
  execFileSync(MIGRATE_BIN(dir), ['makemigrations', '-m', 'initial'], { cwd: dir, stdio: 'ignore' });
}

const scratch = mkdtempSync(join(tmpdir(), 'tributary-nx-phases-'));
const log = join(scratch, 'stamps.log');
const preload = join(scratch, 'stamp.cjs');
// Times in ms since the epoch (performance.timeOrigin): comparable across the processes.
writeFileSync(preload, `
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
`);

const env = { ...process.env, CI: 'true', NO_COLOR: '1', NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
const cold = () => {
  rmSync(join(dir!, '.nx'), { recursive: true, force: true });
  rmSync(join(dir!, 'node_modules/.cache/tributary/clean-check.json'), { force: true });
};
const phases: Record<string, number[]> = { 'nx until fork': [], 'worker until executor': [], 'executor until first result': [], 'first result until exit': [], 'run-many': [], 'check --offline': [] };
for (let run = 0; run < runs; run++) {
  cold();
  rmSync(log, { force: true });
  const nx = spawnSync(process.execPath, [join(dir, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'migrate-check', '--outputStyle=static'], { cwd: dir, env: { ...env, NODE_OPTIONS: `--require ${preload}` }, encoding: 'utf8' });
  if (!/Successfully ran target migrate-check/.test(nx.stdout)) throw new Error(`nx run-many failed:\n${nx.stdout}${nx.stderr}`);
  const at = Object.fromEntries(readFileSync(log, 'utf8').trim().split('\n').map((line) => [line.split(' ')[1]!, Number(line.split(' ')[0])]));
  phases['nx until fork']!.push(at['worker-start']! - at['main-start']!);
  phases['worker until executor']!.push(at['executor-required']! - at['worker-start']!);
  phases['executor until first result']!.push(at['first-result']! - at['executor-required']!);
  phases['first result until exit']!.push(at['main-exit']! - at['first-result']!);
  phases['run-many']!.push(at['main-exit']! - at['main-start']!);
  cold();
  const started = performance.now();
  spawnSync(MIGRATE_BIN(dir), ['check', '--offline'], { cwd: dir, env, stdio: 'ignore' });
  phases['check --offline']!.push(performance.now() - started);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const [phase, values] of Object.entries(phases)) console.log(`${phase.padEnd(30)} ${median(values).toFixed(0).padStart(6)} ms   (${values.map((v) => v.toFixed(0)).join(' ')})`);
console.log(`workspace: ${dir}`);
rmSync(scratch, { recursive: true, force: true });
