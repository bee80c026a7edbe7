/**
 * showmigrations and check on a long stream: the makemigrations workspace's stream grown with
 * data migrations to N files, all recorded as applied in a real PostgreSQL database (the schema
 * ones really applied, so that check's drift comparison finds the tables the stream made). `check` runs
 * cold: no remembered clean check, valid files or clean drift comparison (removed before every run).
 */
import { rmSync } from 'node:fs';
import { readStream } from '../../../libs/migrate/src/stream/stream.ts';
import { measure, runOnce, type Run, type Sample } from '../measure.ts';
import type { Row } from '../report.ts';
import { freshDatabase, recordWholeStream, urlOf } from '../database.ts';
import { growStream } from '../streams.ts';
import type { BenchWorkspace } from '../workspace.ts';
import { cliStartMs, timeBudget } from './budgets.ts';
import { tributary, type Plan, type Size } from './context.ts';

/** Under a second for 5,000 migrations; showmigrations --json at 4× too (20,000). */
const BUDGET_MS = 1000;
const FULL_STREAM = 5000;
const SHOW_BUDGET_SIZE = 4;

export async function benchStatus(plan: Plan, size: Size, ws: BenchWorkspace): Promise<Row[]> {
  const total = plan.stream * size.factor;
  growStream(ws, total);
  const database = await freshDatabase(`status_${size.factor}x`);
  const env = { DATABASE_URL: urlOf(database) };
  const lastSchemaChange = readStream(ws.path('migrations')).findLast((e) => !e.name.includes('_backfill_'))!;
  await runOnce(tributary('migrate (set-up)', ws.dir, ['migrate', '--to', lastSchemaChange.name], { env }));
  const recorded = await recordWholeStream(ws.dir, database);
  const scale = `${total} migrations, ${ws.services.length} services`;

  const show = await measure(
    tributary('showmigrations', ws.dir, ['showmigrations', '--json'], {
      env,
      verify: (run: Run) => {
        const { applied, pending } = JSON.parse(run.stdout);
        if (applied !== recorded || pending !== 0) throw new Error(`bench: showmigrations saw ${applied} applied, ${pending} pending; expected ${recorded}, 0`);
      },
    }),
    size.repeats,
    size.warmUp,
  );
  // Cold: nothing Tributary remembers between runs (node_modules/.cache/tributary).
  const cold = () => {
    rmSync(ws.path('node_modules', '.cache', 'tributary'), { recursive: true, force: true });
  };
  const check = await measure(tributary('check', ws.dir, ['check'], { env, prepare: cold }), size.repeats, size.warmUp);
  const startMs = plan.mode === 'quick' ? await cliStartMs(ws.dir) : 0;
  const row = (key: string, title: string, sample: Sample, judged: boolean): Row => ({
    key,
    title,
    size: size.label,
    scale,
    ours: sample,
    ...(judged ? timeBudget(plan, sample.wallMs, BUDGET_MS, FULL_STREAM * size.factor, total, startMs) : {}),
  });
  return [
    row('showmigrations', 'showmigrations --json', show, size.factor === 1 || size.factor === SHOW_BUDGET_SIZE),
    row('check', 'check (models, stream, database), cold', check, size.factor === 1),
  ];
}
