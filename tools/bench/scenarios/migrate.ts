/**
 * migrate vs psql on real PostgreSQL: N one-statement migrations (one transaction each, with
 * its history row) vs a psql script with the same boundaries; one migration of M statements vs
 * `psql -1`. Every run starts from a fresh copy of a database holding an empty history table.
 */
import { compare, type Command } from '../measure.ts';
import type { Row } from '../report.ts';
import { appliedCount, databaseName, freshDatabase, historyTemplate, urlOf } from '../database.ts';
import { bigMigration, oneStatementStream, psqlScript, type WrittenMigration } from '../streams.ts';
import { blankWorkspace } from '../workspace.ts';
import { tributary, type Plan, type Size } from './context.ts';

const PSQL = 'psql';

async function versusPsql(label: string, migrations: (ws: ReturnType<typeof blankWorkspace>) => WrittenMigration[], singleTransaction: boolean, pairs: number, warmUp: boolean) {
  const ws = blankWorkspace(label);
  try {
    const written = migrations(ws);
    const script = psqlScript(ws.dir, written, { singleTransaction });
    const template = await historyTemplate(ws.dir);
    const database = databaseName(`${label}_run`);
    const prepare = async () => {
      await freshDatabase(`${label}_run`, template);
    };
    const verify = async () => {
      const applied = await appliedCount(database);
      if (applied !== written.length) throw new Error(`bench: ${label}: ${applied} migrations recorded, expected ${written.length}`);
    };
    const ours = tributary('migrate', ws.dir, ['migrate'], { prepare, verify, env: { DATABASE_URL: urlOf(database) } });
    const baseline: Command = {
      label: 'psql',
      cmd: PSQL,
      args: ['-X', '-q', '-o', '/dev/null', ...(singleTransaction ? ['-1'] : []), '-d', urlOf(database), '-f', script],
      cwd: ws.dir,
      prepare,
      verify,
    };
    return await compare(ours, baseline, pairs, warmUp);
  } finally {
    ws.dispose();
  }
}

export async function benchMigrate(plan: Plan, size: Size): Promise<Row[]> {
  const count = plan.migrations * size.factor;
  const statements = plan.statements * size.factor;
  const many = await versusPsql(`m${count}`, (ws) => oneStatementStream(ws, count), false, size.pairs, size.warmUp);
  const big = await versusPsql(`s${statements}`, (ws) => [bigMigration(ws, statements)], true, size.pairs, size.warmUp);
  return [
    {
      key: `migrate${plan.migrations}_vs_psql`,
      title: 'migrate, one-statement migrations',
      size: size.label,
      scale: `${count} migrations`,
      ours: many.ours,
      baseline: { ...many.baseline, label: 'psql' },
      ratio: many.ratio,
      budget: size.factor === 1 ? '≤ 1.2×' : undefined,
      ok: size.factor === 1 ? many.ratio <= 1.2 : undefined,
    },
    {
      key: `migrate${plan.statements}_vs_psql`,
      title: 'migrate, one big migration',
      size: size.label,
      scale: `1 migration × ${statements} statements`,
      ours: big.ours,
      baseline: { ...big.baseline, label: 'psql -1' },
      ratio: big.ratio,
      budget: size.factor === 1 ? '≤ 1.1×' : undefined,
      ok: size.factor === 1 ? big.ratio <= 1.1 : undefined,
    },
  ];
}
