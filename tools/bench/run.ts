/**
 * `npm run bench [-- --quick]`: measures every budget of DESIGN.md → "Performance budgets" at
 * 1× and 4×, against real PostgreSQL, prints the table and writes results.json (the full run
 * to bench/results.json, a quick one to bench/scratch/results-quick.json).
 *
 * Options: --quick (small sizes, under two minutes), --only <scenario,…> (makemigrations,
 * migrate, status, boot, nx, fanout, pglite), --size 1x|4x (one size only), --keep (keep the scratch
 * workspaces). Runs with --only or --size write nothing but the table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dropAll, serverVersion, settleServer } from './database.ts';
import { machine, markdownTable, resultsJson, textTable, versions, type Row } from './report.ts';
import { benchBoot } from './scenarios/boot.ts';
import type { Plan } from './scenarios/context.ts';
import { benchMakemigrations } from './scenarios/makemigrations.ts';
import { benchMigrate } from './scenarios/migrate.ts';
import { benchNx } from './scenarios/nx.ts';
import { benchPglite } from './scenarios/pglite.ts';
import { benchStatus } from './scenarios/status.ts';
import { benchFanOut, startFanOutServers } from './scenarios/fan-out.ts';
import { REPO, type BenchWorkspace } from './workspace.ts';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, size: { type: 'string' }, keep: { type: 'boolean' } } });

const FULL: Plan = {
  mode: 'full',
  shape: { services: 50, entitiesPerService: 20 },
  changedServices: 5,
  migrations: 300,
  statements: 5000,
  stream: 5000,
  boot: 1000,
  nxServices: 50,
  nxEntitiesPerService: 2,
  sizes: [
    { label: '1×', factor: 1, pairs: 4, repeats: 4, warmUp: true },
    { label: '4×', factor: 4, pairs: 2, repeats: 2, warmUp: true },
  ],
};

const QUICK: Plan = {
  mode: 'quick',
  shape: { services: 4, entitiesPerService: 5 },
  changedServices: 1,
  migrations: 30,
  statements: 500,
  stream: 250,
  boot: 100,
  nxServices: 4,
  nxEntitiesPerService: 2,
  sizes: [
    { label: '1×', factor: 1, pairs: 2, repeats: 2, warmUp: false },
    { label: '4×', factor: 4, pairs: 2, repeats: 2, warmUp: false },
  ],
};

const plan = flags.quick ? QUICK : FULL;
if (flags.size) plan.sizes = plan.sizes.filter((s) => s.factor === Number.parseInt(flags.size!, 10));
const only = new Set((flags.only ?? 'makemigrations,migrate,status,boot,nx,fanout,pglite').split(','));
const started = Date.now();
const loadAtStart = loadavg()[0]!;
const rows: Row[] = [];
const workspaces: BenchWorkspace[] = [];
const step = (what: string) => process.stderr.write(`bench [${Math.round((Date.now() - started) / 1000)}s] ${what}\n`);

/** Adds `growth` (ours at 4× / ours at 1×) to the 4× row of each figure. */
function withGrowth(all: Row[]): Row[] {
  return all.map((row) => {
    const base = all.find((r) => r.key === row.key && r.size === '1×');
    return row.size === '4×' && base?.ours && row.ours ? { ...row, growth: row.ours.wallMs / base.ours.wallMs } : row;
  });
}

const clusters = only.has('fanout') ? await startFanOutServers() : [];
try {
  step(`${plan.mode} run: ${plan.shape.services} services × ${plan.shape.entitiesPerService} entities at 1×`);
  for (const size of plan.sizes) {
    let models: BenchWorkspace | undefined;
    if (only.has('makemigrations') || only.has('status') || only.has('boot')) {
      step(`makemigrations ${size.label}`);
      const result = await benchMakemigrations(plan, size);
      models = result.workspace;
      workspaces.push(models);
      if (only.has('makemigrations')) rows.push(...result.rows);
    }
    if (only.has('migrate')) {
      step(`migrate ${size.label}`);
      rows.push(...(await benchMigrate(plan, size)));
      await settleServer();
    }
    // The boot check's stream (1,000) is grown further for showmigrations/check (5,000).
    if (only.has('boot') && models) {
      step(`boot check ${size.label}`);
      rows.push(...(await benchBoot(plan, size, models)));
    }
    if (only.has('status') && models) {
      step(`showmigrations/check ${size.label}`);
      rows.push(...(await benchStatus(plan, size, models)));
    }
    if (only.has('nx')) {
      step(`nx run-many ${size.label}`);
      rows.push(...(await benchNx(plan, size)));
    }
    if (only.has('fanout')) {
      step(`migrate --targets ${size.label}`);
      rows.push(...(await benchFanOut(plan, size, clusters)));
    }
    // The example workspace has one size.
    if (only.has('pglite') && size.factor === 1) {
      step('embedded PGlite');
      rows.push(...(await benchPglite(size)));
    }
    if (!flags.keep) for (const ws of workspaces.splice(0)) ws.dispose();
  }

  const order = ['makemigrations', 'migrate', 'showmigrations', 'check', 'boot', 'nx', 'fanout', 'pglite'];
  const rank = (row: Row) => order.findIndex((prefix) => row.key.startsWith(prefix));
  // The budgets are set for the full sizes: a quick run shows them without a verdict.
  const judged = flags.quick ? rows.map((row) => (row.judgedWhenQuick ? row : { ...row, ok: undefined })) : rows;
  const measured = withGrowth(judged).map((row, index) => ({ row, index }));
  measured.sort((a, b) => rank(a.row) - rank(b.row) || a.index - b.index);
  // Keep each figure's 1× and 4× rows together, 1× first.
  const keys = [...new Set(measured.map(({ row }) => row.key))];
  const grouped = keys.flatMap((key) => measured.filter(({ row }) => row.key === key).map(({ row }) => row).sort((a, b) => a.size.localeCompare(b.size)));

  const context = { date: new Date().toISOString(), machine: machine(loadAtStart), versions: versions(await serverVersion()), mode: plan.mode };
  const partial = Boolean(flags.only || flags.size);
  const out = flags.quick || partial ? join(REPO, 'bench/scratch') : join(REPO, 'bench');
  mkdirSync(out, { recursive: true });
  const base = partial ? 'results-partial' : flags.quick ? 'results-quick' : 'results';
  const jsonFile = join(out, `${base}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(resultsJson(grouped, context), null, 2)}\n`);
  writeFileSync(join(out, `${base}.md`), `${markdownTable(grouped)}\n`);

  const m = context.machine;
  const v = context.versions;
  process.stdout.write(`\nTributary benchmark (${plan.mode}), ${context.date}\n`);
  process.stdout.write(`machine: ${m.cores} cores (${m.cpu}), ${m.ramGb} GB RAM, ${m.platform}; load average ${m.load.start} at start, ${m.load.end} at end\n`);
  process.stdout.write(`versions: ${Object.entries(v).map(([k, x]) => `${k} ${x}`).join(', ')}\n\n`);
  process.stdout.write(`${textTable(grouped)}\n\n`);
  process.stdout.write(`ratio = Tributary / baseline (median of per-pair wall-time ratios; lower is better); 4×/1× = how Tributary's time grows.\n`);
  process.stdout.write(`written: ${jsonFile} (${Math.round((Date.now() - started) / 1000)} s)\n`);
} finally {
  if (flags.keep) for (const ws of workspaces) process.stderr.write(`kept ${ws.dir}\n`);
  else for (const ws of workspaces) ws.dispose();
  await dropAll();
  await Promise.all(clusters.map((cluster) => cluster.stop()));
}
