/**
 * showmigrations and check on a long stream: the makemigrations workspace's stream grown with
 * data migrations to N files, all recorded as applied in a real PostgreSQL database (the schema
 * ones really applied, so that check's drift comparison finds the tables the stream made). `check` runs
 * cold: no remembered clean check, valid files or clean drift comparison (removed before every run).
 * `check` runs twice: on that workspace (50 × 20 entities: loading and discovering 1,000 models is
 * most of its time), and on the same number of migrations with few models (3 services × 5 entities),
 * which is what the budget's "over 5,000 migrations" measures alone. On the big workspace it is
 * paired with MikroORM's own `migration:check` on the same models and database: what learning
 * "models and schema agree" costs with the ORM's CLI (loading and discovering the same models).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { readStream } from '../../../libs/migrate/src/stream/stream.ts';
import { compare, measure, runOnce, type Command, type Run, type Sample } from '../measure.ts';
import type { Row } from '../report.ts';
import { freshDatabase, recordWholeStream, urlOf } from '../database.ts';
import { growStream } from '../streams.ts';
import { generateWorkspace, type BenchWorkspace } from '../workspace.ts';
import { cliStartMs, timeBudget } from './budgets.ts';
import { MIGRATE_BIN, tributary, type Plan, type Size } from './context.ts';

const MIKRO_CHECK = resolve(import.meta.dirname, '../baselines/mikroorm-check.ts');
const MIKRO_CHECK_LABEL = 'MikroORM migration:check';

/** Under a second for 5,000 migrations; showmigrations --json at 4× too (20,000). */
const BUDGET_MS = 1000;
const FULL_STREAM = 5000;
const SHOW_BUDGET_SIZE = 4;

/** Few models: the check's cost of the migrations alone. */
const FEW_MODELS = { services: 3, entitiesPerService: 5 };

/** `ws`'s stream grown to `total` migrations, all recorded as applied in a new database (the schema ones applied). */
async function appliedStream(ws: BenchWorkspace, total: number, label: string): Promise<{ env: Record<string, string>; recorded: number }> {
  growStream(ws, total);
  const database = await freshDatabase(label);
  const env = { DATABASE_URL: urlOf(database) };
  const lastSchemaChange = readStream(ws.path('migrations')).findLast((e) => !e.name.includes('_backfill_'))!;
  await runOnce(tributary('migrate (set-up)', ws.dir, ['migrate', '--to', lastSchemaChange.name], { env }));
  return { env, recorded: await recordWholeStream(ws.dir, database) };
}

/** Cold: nothing Tributary remembers between runs (node_modules/.cache/tributary). */
const coldCheck = (ws: BenchWorkspace, env: Record<string, string>) =>
  tributary('check', ws.dir, ['check'], { env, prepare: () => rmSync(ws.path('node_modules', '.cache', 'tributary'), { recursive: true, force: true }) });

/** MikroORM's `migration:check` on `ws`'s models against the database the stream built; it must find nothing to do. */
function mikroOrmCheck(ws: BenchWorkspace, url: string): Command {
  // Its migrations folder (it lists none): inside the workspace, which goes with it.
  const scratch = ws.path('.bench-mikro-check');
  mkdirSync(scratch, { recursive: true });
  return {
    label: MIKRO_CHECK_LABEL,
    cmd: process.execPath,
    args: [MIKRO_CHECK, ws.dir, scratch, url],
    cwd: ws.dir,
    verify: (run: Run) => {
      if (JSON.parse(run.stdout.trim().split('\n').at(-1)!).needed !== false) throw new Error(`bench: MikroORM's check found the models and the database apart:\n${run.stdout}`);
    },
  };
}

export async function benchStatus(plan: Plan, size: Size, ws: BenchWorkspace): Promise<Row[]> {
  const total = plan.stream * size.factor;
  const { env, recorded } = await appliedStream(ws, total, `status_${size.factor}x`);
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
  const check = await compare(coldCheck(ws, env), mikroOrmCheck(ws, env.DATABASE_URL!), size.pairs, size.warmUp);
  const few = generateWorkspace(`status-few-${size.factor}x`, FEW_MODELS);
  let fewCheck: Sample;
  try {
    execFileSync(MIGRATE_BIN(few.dir), ['makemigrations', '-m', 'initial'], { cwd: few.dir, stdio: 'ignore' });
    const applied = await appliedStream(few, total, `status_few_${size.factor}x`);
    fewCheck = await measure(coldCheck(few, applied.env), size.repeats, size.warmUp);
  } finally {
    few.dispose();
  }
  const startMs = plan.mode === 'quick' ? await cliStartMs(ws.dir) : 0;
  const row = (key: string, title: string, sample: Sample, judged: boolean, at = scale, vs?: Partial<Row>): Row => ({
    key,
    title,
    size: size.label,
    scale: at,
    ours: sample,
    ...vs,
    ...(judged ? timeBudget(plan, sample.wallMs, BUDGET_MS, FULL_STREAM * size.factor, total, startMs) : {}),
  });
  const fewScale = `${total} migrations, ${FEW_MODELS.services} services × ${FEW_MODELS.entitiesPerService} entities`;
  return [
    row('showmigrations', 'showmigrations --json', show, size.factor === 1 || size.factor === SHOW_BUDGET_SIZE),
    row('check', 'check (models, stream, database), cold', check.ours, size.factor === 1, scale, { baseline: { ...check.baseline, label: MIKRO_CHECK_LABEL }, ratio: check.ratio }),
    row('check_few_models', 'check (models, stream, database), cold, few models', fewCheck, size.factor === 1, fewScale),
  ];
}
