/**
 * The boot check, in-process (models imported, ORM connected): history vs stream, and with
 * model-change detection, over N applied migrations of the makemigrations workspace. Each
 * figure is the median over fresh processes of the one call an app makes at boot.
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { median, runOnce } from '../measure.ts';
import type { Row } from '../report.ts';
import { freshDatabase, recordWholeStream, urlOf } from '../database.ts';
import { growStream } from '../streams.ts';
import type { BenchWorkspace } from '../workspace.ts';
import { BOOT_FIXED_MS, timeBudget } from './budgets.ts';
import type { Plan, Size } from './context.ts';

const PROBE = resolve(import.meta.dirname, '../probes/boot-check.ts');

export async function benchBoot(plan: Plan, size: Size, ws: BenchWorkspace): Promise<Row[]> {
  const total = plan.boot * size.factor;
  growStream(ws, total);
  const database = await freshDatabase(`boot_${size.factor}x`);
  const recorded = await recordWholeStream(ws.dir, database);
  const scale = `${recorded} applied, ${ws.services.length} services × ${plan.shape.entitiesPerService} entities`;

  // What Tributary remembers between runs (file stamps and checksums, the last clean check); a
  // container's first start has none of it.
  const forget = () => rmSync(ws.path('node_modules', '.cache', 'tributary'), { recursive: true, force: true });
  const probe = async (mode: 'history' | 'models', cold = false): Promise<{ ms: number[]; unavailable?: string }> => {
    const ms: number[] = [];
    for (let i = 0; i < size.repeats + 1; i++) {
      if (cold) forget();
      const run = await runOnce({ label: `boot check (${mode})`, cmd: process.execPath, args: [PROBE, ws.dir, urlOf(database), mode], cwd: ws.dir });
      const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
      if (result.unavailable) return { ms, unavailable: result.unavailable };
      if (result.applied !== recorded || result.status !== 'ok') throw new Error(`bench: boot check (${mode}) saw ${result.applied} applied, status ${result.status}: ${result.warnings.join(' ')}`);
      if (i > 0) ms.push(result.ms); // the first process warms the file-system cache
    }
    return { ms };
  };
  // The history check grows with applied migrations, model detection with entities: the budgets are
  // set for 1,000 of each (50 services × 20 entities), a quick run's are scaled to its sizes.
  const full = { history: 1000, models: 1000 };
  const entities = ws.services.length * plan.shape.entitiesPerService;
  const row = async (key: string, title: string, mode: 'history' | 'models', budgetMs: number | undefined, cold = false): Promise<Row> => {
    const { ms, unavailable } = await probe(mode, cold);
    if (unavailable) return { key, title, size: size.label, scale, note: `n/a (boot check not ready: ${unavailable.slice(0, 80)})` };
    const wallMs = median(ms);
    return {
      key,
      title,
      size: size.label,
      scale,
      ours: { wallMs, rssMb: Number.NaN, runs: ms.map(Math.round) },
      ...(cold ? { note: 'nothing remembered in node_modules/.cache' } : {}),
      ...(size.factor === 1 && budgetMs !== undefined ? timeBudget(plan, wallMs, budgetMs, full[mode], mode === 'history' ? recorded : entities, BOOT_FIXED_MS) : {}),
    };
  };
  return [
    await row('boot_check_history', 'boot check, history vs stream (in-process)', 'history', 30),
    await row('boot_check_history_first', 'boot check, history vs stream, first start (in-process)', 'history', undefined, true),
    await row('boot_check_models', 'boot check with model-change detection (in-process)', 'models', 300),
  ];
}
