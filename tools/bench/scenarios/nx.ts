/**
 * `nx run-many -t migrate-check` over N services: cold (no Nx cache, no project-graph cache, no
 * remembered clean check) against one `migrate check --offline` of the whole workspace, and warm
 * (every task a cache hit) against Nx's own floor, a warm run-many of a no-op cached target over
 * the same projects; then one new migration of one service, which `nx affected` must limit to
 * that service and the services whose models import its models. The cold run-many is also split
 * (../nx-phases.ts) into Nx's own share and our executor's, which the budget's ratio mixes. Needs
 * Tributary's Nx plugin; without it only the floor runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compare, measure, median, runOnce, type Command, type Run, type Sample } from '../measure.ts';
import { coldRunManyPhases, nxShareRuns } from '../nx-phases.ts';
import type { Row } from '../report.ts';
import { generateWorkspace, REPO, serviceName } from '../workspace.ts';
import { tributary, type Plan, type Size } from './context.ts';

const PACKAGE = '@tributary/migrate';
const PLUGIN = `${PACKAGE}/plugin`;
const NOOP = 'bench-noop';

/** The plugin counts as ready once the repository registers it and ships its executors. */
export function pluginReady(): boolean {
  const nxJson = JSON.parse(readFileSync(join(REPO, 'nx.json'), 'utf8'));
  const registered = (nxJson.plugins ?? []).some((p: string | { plugin: string }) => (typeof p === 'string' ? p : p.plugin) === PLUGIN);
  return registered && existsSync(join(REPO, 'libs/migrate/executors.json')) && existsSync(join(REPO, 'libs/migrate/src/nx/plugin.ts'));
}

function expectTasks(count: number, target: string) {
  return (run: Run) => {
    const out = (run.stdout + run.stderr).replace(/\x1b\[[0-9;]*m/g, '');
    if (!new RegExp(`Successfully ran target ${target} for ${count} projects?`).test(out)) {
      throw new Error(`bench: nx run-many -t ${target} did not run ${count} projects:\n${out.slice(-1500)}`);
    }
  };
}

const medianMs = (values: number[]) => `${Math.round(median(values))} ms`;

/** The cold run-many at 1×, which the 4× run must stay within 4.4× of (linear). */
let coldAtOneX: number | undefined;
const LINEAR = 4.4;

/**
 * The services whose check reads `service`'s migrations: itself and those whose models import
 * its models. The generator's cross-service imports (workspace.ts) go from entity 1 of service
 * s to entity 0 of service (s·37 + 11) mod s, which imports nothing: no chains.
 */
function checksReading(service: number, services: number): number {
  let count = 1;
  for (let s = 1; s < services; s++) if ((s * 37 + 11) % s === service) count++;
  return count;
}

export async function benchNx(plan: Plan, size: Size): Promise<Row[]> {
  const services = plan.nxServices * size.factor;
  const scale = `${services} services × ${plan.nxEntitiesPerService} entities`;
  const ready = pluginReady();
  const ws = generateWorkspace(`nx-${size.factor}x`, { services, entitiesPerService: plan.nxEntitiesPerService });
  try {
    const nxJson = JSON.parse(readFileSync(ws.path('nx.json'), 'utf8'));
    nxJson.targetDefaults = { [NOOP]: { cache: true, inputs: ['{projectRoot}/**/*'] } };
    writeFileSync(ws.path('nx.json'), `${JSON.stringify(nxJson, null, 2)}\n`);
    for (const service of ws.services) {
      const file = ws.path('apps', service, 'package.json');
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      pkg.nx.targets = { [NOOP]: { command: 'true' } };
      writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
    }
    const nxBin = join(ws.dir, 'node_modules/nx/dist/bin/nx.js');
    if (ready) {
      // Set up as the README says: the init generator registers the plugin (and writes .env).
      await runOnce({ label: 'nx g init', cmd: process.execPath, args: [nxBin, 'g', `${PACKAGE}:init`], cwd: ws.dir });
      if (!JSON.parse(readFileSync(ws.path('nx.json'), 'utf8')).plugins?.includes(PLUGIN)) throw new Error('bench: the init generator did not register the plugin');
      // The offline check needs a stream that matches the models.
      await runOnce(tributary('makemigrations', ws.dir, ['makemigrations', '-m', 'initial']));
    }

    const nx = (target: string, prepare?: () => void): Command => ({
      label: `nx run-many -t ${target}`,
      cmd: process.execPath,
      args: [nxBin, 'run-many', '-t', target, '--outputStyle=static'],
      cwd: ws.dir,
      prepare,
      verify: expectTasks(services, target),
    });
    // Cold: no Nx cache (task results, project graph) and no remembered clean check (it lives in
    // node_modules/.cache, here the repository's through the link).
    const cold = () => {
      rmSync(ws.path('.nx'), { recursive: true, force: true });
      rmSync(ws.path('node_modules/.cache/tributary/clean-check.json'), { force: true });
    };
    const floor = nx(NOOP);
    const rows: Row[] = [];
    if (ready) {
      // Cold: one task (what one service's check costs alone), then the whole run-many against
      // one `migrate check --offline` of every service, pairs alternated.
      const oneTask: Command = { ...nx('migrate-check', cold), label: 'nx run (one task, cold)', args: [nxBin, 'run', `${ws.services.at(-1)}:migrate-check`, '--outputStyle=static'], verify: undefined };
      const coldTask = await measure(oneTask, size.factor === 1 ? 2 : 1, false);
      const check = tributary('migrate check --offline', ws.dir, ['check', '--offline'], { prepare: cold });
      const coldRun = await compare(nx('migrate-check', cold), check, size.pairs, size.warmUp);
      if (size.factor === 1) coldAtOneX = coldRun.ours.wallMs;
      const phases = coldRunManyPhases(ws.dir, size.pairs, cold);
      // Times inside processes: no peak memory of their own.
      const part = (runs: number[]): Sample => ({ wallMs: median(runs), rssMb: Number.NaN, runs: runs.map(Math.round) });
      const growth = size.factor === 1 || coldAtOneX === undefined ? undefined : coldRun.ours.wallMs / coldAtOneX;
      // The warm runs start from a full cache.
      await runOnce(nx('migrate-check'));
      const warm = await compare(nx('migrate-check'), floor, size.pairs, size.warmUp);
      rows.push(
        { key: 'nx_migrate_check_cold_one_task', title: 'nx run <service>:migrate-check, cold', size: size.label, scale, ours: coldTask },
        {
          key: 'nx_migrate_check_cold',
          title: 'nx run-many -t migrate-check, cold',
          size: size.label,
          scale,
          ours: coldRun.ours,
          baseline: { ...coldRun.baseline, label: 'migrate check --offline' },
          ratio: coldRun.ratio,
          budget: size.factor === 1 ? '≤ 2×' : `≤ ${LINEAR}× the 1× run`,
          ok: size.factor === 1 ? coldRun.ratio <= 2 : growth === undefined ? undefined : growth <= LINEAR,
          judgedWhenQuick: true, // ratios, whatever the size
        },
        {
          key: 'nx_migrate_check_cold_nx_share',
          title: "nx run-many -t migrate-check, cold: Nx's own share",
          size: size.label,
          scale,
          ours: part(nxShareRuns(phases)),
          note: `until the batch worker forks ${medianMs(phases['nx until fork'])}, worker start ${medianMs(phases['worker until executor'])}, after the results ${medianMs(phases['first result until exit'])}`,
        },
        { key: 'nx_migrate_check_cold_executor', title: 'nx run-many -t migrate-check, cold: our batch executor', size: size.label, scale, ours: part(phases['executor until first result']) },
        {
          key: 'nx_migrate_check_warm_vs_noop',
          title: 'nx run-many -t migrate-check, warm',
          size: size.label,
          scale,
          ours: warm.ours,
          baseline: { ...warm.baseline, label: 'nx no-op' },
          ratio: warm.ratio,
          budget: size.factor === 1 ? '≤ 1.3×' : undefined,
          ok: size.factor === 1 ? warm.ratio <= 1.3 : undefined,
          judgedWhenQuick: true,
        },
        await affectedByOneMigration(ws.dir, services, nx, scale, size),
      );
    } else {
      await runOnce(floor);
      const warmFloor = await measure(floor, size.repeats, size.warmUp);
      const na = 'n/a (plugin not ready)';
      rows.push(
        { key: 'nx_migrate_check_cold', title: 'nx run-many -t migrate-check, cold', size: size.label, scale, note: na },
        { key: 'nx_migrate_check_warm_vs_noop', title: 'nx run-many -t migrate-check, warm', size: size.label, scale, note: na, baseline: { ...warmFloor, label: 'nx no-op' } },
      );
    }
    return rows;
  } finally {
    ws.dispose();
  }
}

/**
 * One new (empty) migration of a service others reference, in a git repository: `nx affected
 * -t migrate-check --base=HEAD` must run exactly that service's check and those of the services
 * whose models import its models; every other check stays out (and cached).
 */
async function affectedByOneMigration(dir: string, services: number, nx: (target: string) => Command, scale: string, size: Size): Promise<Row> {
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], { cwd: dir, stdio: 'ignore' });
  writeFileSync(join(dir, '.gitignore'), 'node_modules\n.nx\n');
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'bench workspace');
  const changed = 1; // svc-001: referenced by several services in the generated workspace
  await runOnce(tributary('makemigrations --empty', dir, ['makemigrations', '--empty', '--service', serviceName(changed), '-m', 'backfill']));
  const expected = checksReading(changed, services);
  const affected: Command = { ...nx('migrate-check'), label: 'nx affected -t migrate-check', args: [join(dir, 'node_modules/nx/dist/bin/nx.js'), 'affected', '-t', 'migrate-check', '--base=HEAD', '--outputStyle=static'], verify: expectTasks(expected, 'migrate-check') };
  const sample = await measure(affected, 1, false);
  return {
    key: 'nx_affected_one_migration',
    title: `nx affected -t migrate-check after one new migration of ${serviceName(changed)}`,
    size: size.label,
    scale,
    ours: sample,
    note: `${expected} of ${services} checks affected`,
    budget: `only its ${expected} checks`,
    ok: true, // `verify` throws when Nx runs any other number of checks
    judgedWhenQuick: true,
  };
}
