/**
 * `nx run-many -t migrate-check` over N services, cold (no Nx cache, no project-graph cache) and
 * warm (every task a cache hit), against Nx's own floor: a warm run-many of a no-op cached
 * target over the same projects. Needs Tributary's Nx plugin; without it only the floor runs.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compare, measure, runOnce, type Command, type Run } from '../measure.ts';
import type { Row } from '../report.ts';
import { generateWorkspace, REPO } from '../workspace.ts';
import { tributary, type Plan, type Size } from './context.ts';

const PLUGIN = '@tributary/migrate/plugin';
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
    if (!new RegExp(`Successfully ran target ${target} for ${count} projects`).test(out)) {
      throw new Error(`bench: nx run-many -t ${target} did not run ${count} projects:\n${out.slice(-1500)}`);
    }
  };
}

export async function benchNx(plan: Plan, size: Size): Promise<Row[]> {
  const services = plan.nxServices * size.factor;
  const scale = `${services} services × ${plan.nxEntitiesPerService} entities`;
  const ready = pluginReady();
  const ws = generateWorkspace(`nx-${size.factor}x`, { services, entitiesPerService: plan.nxEntitiesPerService });
  try {
    const nxJson = JSON.parse(readFileSync(ws.path('nx.json'), 'utf8'));
    nxJson.targetDefaults = { [NOOP]: { cache: true, inputs: ['{projectRoot}/**/*'] } };
    if (ready) nxJson.plugins = [PLUGIN];
    writeFileSync(ws.path('nx.json'), `${JSON.stringify(nxJson, null, 2)}\n`);
    for (const service of ws.services) {
      const file = ws.path('apps', service, 'package.json');
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      pkg.nx.targets = { [NOOP]: { command: 'true' } };
      writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
    }
    // The offline check needs a stream that matches the models.
    if (ready) await runOnce(tributary('makemigrations', ws.dir, ['makemigrations', '-m', 'initial']));

    const nx = (target: string, prepare?: () => void): Command => ({
      label: `nx run-many -t ${target}`,
      cmd: process.execPath,
      args: [join(ws.dir, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', target, '--outputStyle=static'],
      cwd: ws.dir,
      prepare,
      verify: expectTasks(services, target),
    });
    const cold = () => rmSync(ws.path('.nx'), { recursive: true, force: true });
    const floor = nx(NOOP);
    const rows: Row[] = [];
    if (ready) {
      // Cold: one task (what each service's check costs alone), then the whole run-many once,
      // which also fills the cache for the warm runs.
      const oneTask: Command = { ...nx('migrate-check', cold), label: 'nx run (one task, cold)', args: [join(ws.dir, 'node_modules/nx/dist/bin/nx.js'), 'run', `${ws.services.at(-1)}:migrate-check`, '--outputStyle=static'], verify: undefined };
      const coldTask = await measure(oneTask, size.factor === 1 ? 2 : 1, false);
      const coldRun = await measure(nx('migrate-check', cold), 1, false);
      const warm = await compare(nx('migrate-check'), floor, size.pairs, size.warmUp);
      rows.push(
        { key: 'nx_migrate_check_cold_one_task', title: 'nx run <service>:migrate-check, cold', size: size.label, scale, ours: coldTask },
        { key: 'nx_migrate_check_cold', title: 'nx run-many -t migrate-check, cold', size: size.label, scale, ours: coldRun },
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
        },
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
