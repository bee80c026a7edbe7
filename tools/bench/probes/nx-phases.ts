/**
 * Where a cold `nx run-many -t migrate-check` spends its time beyond one `migrate check
 * --offline`: builds the nx scenario's workspace (as tools/bench/scenarios/nx.ts does, or reuses
 * one), then alternates cold run-manys and cold checks and prints median phases (see
 * ../nx-phases.ts) and Nx's own share.
 *
 * Usage: node nx-phases.ts [services=50] [runs=5] [workspace to reuse]   (keeps the workspace; prints its path)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { childEnv, median } from '../measure.ts';
import { coldRunManyPhases, nxShareRuns } from '../nx-phases.ts';
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
const workspace = dir;

const cold = () => {
  rmSync(join(workspace, '.nx'), { recursive: true, force: true });
  rmSync(join(workspace, 'node_modules/.cache/tributary/clean-check.json'), { force: true });
};
const checks: number[] = [];
const phases = coldRunManyPhases(workspace, runs, cold, () => {
  cold();
  const started = performance.now();
  spawnSync(MIGRATE_BIN(workspace), ['check', '--offline'], { cwd: workspace, env: childEnv(), stdio: 'ignore' });
  checks.push(performance.now() - started);
});
for (const [phase, values] of [...Object.entries(phases), ['check --offline', checks] as const]) {
  console.log(`${phase.padEnd(30)} ${median(values).toFixed(0).padStart(6)} ms   (${values.map((v) => v.toFixed(0)).join(' ')})`);
}
console.log(`${"Nx's own share".padEnd(30)} ${median(nxShareRuns(phases)).toFixed(0).padStart(6)} ms`);
console.log(`workspace: ${workspace}`);
