/**
 * migrate vs psql on real PostgreSQL: N one-statement migrations (one transaction each, with
 * its history row) vs a psql script with the same boundaries; one migration of M statements vs
 * `psql -1`; and a long stream (10,000 one-statement migrations at full size) applied to an empty
 * database, against its absolute budget. Every run starts from a fresh copy of a database holding
 * an empty history table.
 */
import { rmSync } from 'node:fs';
import { compare, measure, type Command } from '../measure.ts';
import type { Row } from '../report.ts';
import { appliedCount, databaseName, freshDatabase, historyTemplate, urlOf } from '../database.ts';
import { bigMigration, oneStatementStream, psqlScript, type WrittenMigration } from '../streams.ts';
import { blankWorkspace } from '../workspace.ts';
import { cliStartMs, ratioBudget, timeBudget } from './budgets.ts';
import { tributary, type Plan, type Size } from './context.ts';

const PSQL = 'psql';
/** The long stream: 10,000 migrations in < 20 s (DESIGN.md); a quick run applies 500. */
const BULK = { full: 10_000, quick: 500, budgetMs: 20_000 };

/** A workspace holding `migrations`, a database template with an empty history, and `migrate` that resets and verifies it. */
async function migrateCommand(label: string, migrations: (ws: ReturnType<typeof blankWorkspace>) => WrittenMigration[]) {
  const ws = blankWorkspace(label);
  const written = migrations(ws);
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
  return { ws, written, database, prepare, verify, ours };
}

async function versusPsql(plan: Plan, label: string, migrations: (ws: ReturnType<typeof blankWorkspace>) => WrittenMigration[], singleTransaction: boolean, pairs: number, warmUp: boolean) {
  const { ws, written, database, prepare, verify, ours } = await migrateCommand(label, migrations);
  try {
    const script = psqlScript(ws.dir, written, { singleTransaction });
    const baseline: Command = {
      label: 'psql',
      cmd: PSQL,
      args: ['-X', '-q', '-o', '/dev/null', ...(singleTransaction ? ['-1'] : []), '-d', urlOf(database), '-f', script],
      cwd: ws.dir,
      prepare,
      verify,
    };
    return { ...(await compare(ours, baseline, pairs, warmUp)), startMs: plan.mode === 'quick' ? await cliStartMs(ws.dir) : 0 };
  } finally {
    ws.dispose();
  }
}

/**
 * The long stream on an empty database: two runs at 1×, one at 4× (the longest figures of the
 * benchmark); no warm-up run, since writing the files has just warmed the file-system cache.
 */
async function bulkApply(plan: Plan, size: Size) {
  const count = (plan.mode === 'full' ? BULK.full : BULK.quick) * size.factor;
  const { ws, ours } = await migrateCommand(`bulk${count}`, (w) => oneStatementStream(w, count));
  // A fresh checkout (a deploy): nothing remembered in node_modules/.cache (lint verdicts, file stamps).
  const cold: Command = { ...ours, prepare: async () => (await ours.prepare?.(), rmSync(ws.path('node_modules', '.cache', 'tributary'), { recursive: true, force: true })) };
  try {
    const sample = await measure(cold, size.factor === 1 ? Math.min(size.repeats, 2) : 1, false);
    return { count, sample, startMs: plan.mode === 'quick' ? await cliStartMs(ws.dir) : 0 };
  } finally {
    ws.dispose();
  }
}

export async function benchMigrate(plan: Plan, size: Size): Promise<Row[]> {
  const count = plan.migrations * size.factor;
  const statements = plan.statements * size.factor;
  const many = await versusPsql(plan, `m${count}`, (ws) => oneStatementStream(ws, count), false, size.pairs, size.warmUp);
  const big = await versusPsql(plan, `s${statements}`, (ws) => [bigMigration(ws, statements)], true, size.pairs, size.warmUp);
  const bulk = await bulkApply(plan, size);
  const judged = size.factor === 1;
  return [
    {
      key: `migrate${plan.migrations}_vs_psql`,
      title: 'migrate, one-statement migrations',
      size: size.label,
      scale: `${count} migrations`,
      ours: many.ours,
      baseline: { ...many.baseline, label: 'psql' },
      ratio: many.ratio,
      ...(judged ? ratioBudget(plan, many.ratio, many.ours.wallMs, many.baseline.wallMs, 1.2, many.startMs) : {}),
    },
    {
      key: `migrate${plan.statements}_vs_psql`,
      title: 'migrate, one big migration',
      size: size.label,
      scale: `1 migration × ${statements} statements`,
      ours: big.ours,
      baseline: { ...big.baseline, label: 'psql -1' },
      ratio: big.ratio,
      ...(judged ? ratioBudget(plan, big.ratio, big.ours.wallMs, big.baseline.wallMs, 1.1, big.startMs) : {}),
    },
    {
      key: 'migrate_bulk_empty_database',
      title: 'migrate, long stream to an empty database',
      size: size.label,
      scale: `${bulk.count} one-statement migrations`,
      ours: bulk.sample,
      ...(judged ? timeBudget(plan, bulk.sample.wallMs, BULK.budgetMs, BULK.full, bulk.count, bulk.startMs) : {}),
    },
  ];
}
