/**
 * makemigrations vs MikroORM's `orm.migrator.create()` on the same entity files, both offline
 * (MikroORM reads its snapshot; an empty one for the initial run): initial, incremental after
 * the generator's model changes, and incremental for one service. Leaves the workspace with a
 * stream and shards that match its models, for the status benchmarks.
 */
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compare, runOnce, type Command, type Run } from '../measure.ts';
import type { Row } from '../report.ts';
import { applyModelChanges, generateWorkspace, type BenchWorkspace, type Shape } from '../workspace.ts';
import { tributary, type Plan, type Size } from './context.ts';

const MIKRO = resolve(import.meta.dirname, '../baselines/mikroorm-create.ts');
// MikroORM never connects here (it works from its snapshot); the name only names the snapshot.
const OFFLINE_DB = 'tributary_bench_offline';
const RSS_BUDGET_MB = 300;

function createdFiles(run: Run): number {
  return run.stdout.split('\n').filter((line) => line.startsWith('Created ')).length;
}

function expectFiles(count: number) {
  return (run: Run) => {
    if (createdFiles(run) !== count) throw new Error(`bench: makemigrations wrote ${createdFiles(run)} files, expected ${count}:\n${run.stdout}`);
  };
}

function restore(from: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
}

export interface MakemigrationsResult {
  rows: Row[];
  /** The workspace, its stream and shards matching its models. */
  workspace: BenchWorkspace;
}

export async function benchMakemigrations(plan: Plan, size: Size): Promise<MakemigrationsResult> {
  const shape: Shape = { services: plan.shape.services * size.factor, entitiesPerService: plan.shape.entitiesPerService };
  const changed = plan.changedServices * size.factor;
  const scale = `${shape.services} services × ${shape.entitiesPerService} entities`;
  const ws = generateWorkspace(`models-${size.factor}x`, shape);
  const migrations = ws.path('migrations');
  const mikroDir = ws.path('.mikro-orm');
  const snapshot = join(mikroDir, `.snapshot-${OFFLINE_DB}.json`);
  const pristine = ws.path('.bench-pristine');

  const ours = (label: string, args: string[], files: number, prepare: () => void): Command =>
    tributary(label, ws.dir, ['makemigrations', ...args], { prepare, verify: expectFiles(files) });
  const mikroOrm = (prepare: () => void): Command => ({
    label: 'MikroORM migrator.create()',
    cmd: process.execPath,
    args: [MIKRO, ws.dir, mikroDir, `postgres://postgres@127.0.0.1:5432/${OFFLINE_DB}`],
    cwd: ws.dir,
    prepare,
    verify: (run) => {
      if (!(JSON.parse(run.stdout.trim().split('\n').at(-1)!).statements > 0)) throw new Error(`bench: MikroORM created no migration:\n${run.stdout}`);
    },
  });
  const resetMikroOrm = (snapshotFrom?: string) => () => {
    rmSync(mikroDir, { recursive: true, force: true });
    mkdirSync(mikroDir, { recursive: true });
    if (snapshotFrom) cpSync(snapshotFrom, snapshot);
    else writeFileSync(snapshot, JSON.stringify({ namespaces: ['public'], tables: [], nativeEnums: {} }));
  };

  // Initial: an empty stream (ours) and an empty snapshot (MikroORM). One run of each first,
  // untimed, warms the caches and leaves the initial state the incremental runs start from.
  const emptyStream = () => {
    rmSync(migrations, { recursive: true, force: true });
    mkdirSync(migrations);
  };
  await runOnce(ours('makemigrations', ['-m', 'initial'], shape.services, emptyStream));
  restore(migrations, join(pristine, 'migrations'));
  await runOnce(mikroOrm(resetMikroOrm()));
  cpSync(snapshot, join(pristine, 'snapshot.json'));
  const initial = await compare(ours('makemigrations', ['-m', 'initial'], shape.services, emptyStream), mikroOrm(resetMikroOrm()), size.pairs, false);

  // Incremental: both start from their own initial state, then the same model changes.
  const touched = applyModelChanges(ws, shape, changed);
  const fromInitial = () => restore(join(pristine, 'migrations'), migrations);
  const mikroIncremental = mikroOrm(resetMikroOrm(join(pristine, 'snapshot.json')));
  const incremental = await compare(ours('makemigrations', ['-m', 'step'], touched.length, fromInitial), mikroIncremental, size.pairs, false);
  const oneService = await compare(ours('makemigrations --service', ['--service', touched[0]!, '-m', 'step'], 1, fromInitial), mikroIncremental, size.pairs, false);

  // Leave a stream that matches the models.
  await runOnce(ours('makemigrations', ['-m', 'step'], touched.length, fromInitial));
  rmSync(pristine, { recursive: true, force: true });
  rmSync(mikroDir, { recursive: true, force: true });
  if (readdirSync(migrations).filter((f) => f.endsWith('.ts')).length !== shape.services + touched.length) throw new Error('bench: unexpected stream after makemigrations');

  const row = (key: string, title: string, comparison: typeof initial, what: string): Row => ({
    key,
    title,
    size: size.label,
    scale: `${scale}${what}`,
    ours: comparison.ours,
    baseline: { ...comparison.baseline, label: 'MikroORM' },
    ratio: comparison.ratio,
    budget: size.factor === 1 ? `≤ 1.0×, ≤ ${RSS_BUDGET_MB} MB` : undefined,
    ok: size.factor === 1 ? comparison.ratio <= 1.0 && comparison.ours.rssMb <= RSS_BUDGET_MB : undefined,
    judgedWhenQuick: true, // a ratio to MikroORM, and memory that only shrinks with the workspace
  });
  return {
    workspace: ws,
    rows: [
      row('makemigrations_vs_mikroorm', 'makemigrations, initial', initial, ''),
      row('makemigrations_incremental_vs_mikroorm', 'makemigrations, incremental', incremental, `, ${touched.length} changed`),
      row('makemigrations_one_service_vs_mikroorm', 'makemigrations --service (incremental)', oneService, `, 1 of ${touched.length} changed`),
    ],
  };
}
