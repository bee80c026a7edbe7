/**
 * showmigrations and check on a long stream: the makemigrations workspace's stream grown with
 * data migrations to N files, all recorded as applied in a real PostgreSQL database.
 */
import { measure, type Run } from '../measure.ts';
import type { Row } from '../report.ts';
import { freshDatabase, recordWholeStream, urlOf } from '../database.ts';
import { growStream } from '../streams.ts';
import type { BenchWorkspace } from '../workspace.ts';
import { tributary, type Plan, type Size } from './context.ts';

const BUDGET_MS = 1000;

export async function benchStatus(plan: Plan, size: Size, ws: BenchWorkspace): Promise<Row[]> {
  const total = plan.stream * size.factor;
  growStream(ws, total);
  const database = await freshDatabase(`status_${size.factor}x`);
  const recorded = await recordWholeStream(ws.dir, database);
  const env = { DATABASE_URL: urlOf(database) };
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
  const check = await measure(tributary('check', ws.dir, ['check'], { env }), size.repeats, size.warmUp);
  const row = (key: string, title: string, sample: typeof show): Row => ({
    key,
    title,
    size: size.label,
    scale,
    ours: sample,
    budget: size.factor === 1 ? '< 1 s' : undefined,
    ok: size.factor === 1 ? sample.wallMs < BUDGET_MS : undefined,
  });
  return [row('showmigrations', 'showmigrations --json', show), row('check', 'check (models, stream, database)', check)];
}
