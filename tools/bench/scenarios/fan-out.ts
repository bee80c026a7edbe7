/**
 * Many databases: `migrate --targets` over 50 (1×) and 200 (4×) target databases spread over three
 * real PostgreSQL servers started for the run (clusters of their own, so that creating and
 * dropping hundreds of databases leaves the shared server alone). Nothing
 * pending: budget < 5 s at 200. One new migration with concurrency 8 vs 8 parallel `psql` loops
 * running the same statements, lock and history insert per target: budget ≤ 1.5×.
 */
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { startCluster, sqlOn, type Cluster } from '../../../test/support/clusters.ts';
import { renderMigration } from '../../../libs/migrate/src/diff/writer.ts';
import { migrationName } from '../../../libs/migrate/src/stream/naming.ts';
import { compare, measure, type Command } from '../measure.ts';
import type { Row } from '../report.ts';
import { recordWholeStreamAt } from '../database.ts';
import { HISTORY, oneStatementStream, psqlScript } from '../streams.ts';
import { blankWorkspace } from '../workspace.ts';
import { tributary, type Plan, type Size } from './context.ts';

const TARGETS_AT_1X = 50;
const CONCURRENCY = 8;

/** The three servers, for the whole run (both sizes); stopped and removed by the caller. */
export function startFanOutServers(): Promise<Cluster[]> {
  return Promise.all([startCluster(), startCluster(), startCluster()]);
}

export async function benchFanOut(plan: Plan, size: Size, clusters: Cluster[]): Promise<Row[]> {
  const count = TARGETS_AT_1X * size.factor;
  // A quick run keeps the full sizes (the budgets are set for them) with one pair and one repeat.
  const [pairs, repeats] = plan.mode === 'quick' ? [1, 1] : [size.pairs, size.repeats];
  const label = `fan${count}`;
  const ws = blankWorkspace(label);
  try {
    // Every target starts with a stream of 30 migrations recorded as applied: a template per server.
    oneStatementStream(ws, 30);
    const template = `${label}_template`;
    for (const cluster of clusters) {
      await sqlOn(cluster.url('postgres'), `create database "${template}"`);
      await recordWholeStreamAt(ws.dir, cluster.url(template));
    }
    const urls = await targetDatabases(clusters, template, count, label);
    const targetsFile = ws.path('targets.txt');
    writeFileSync(targetsFile, `${urls.join('\n')}\n`);

    const upToDate = tributary('migrate --targets', ws.dir, ['migrate', '--targets', targetsFile], { verify: printed(`Targets: 0 migrated, ${count} up to date, 0 failed`) });
    const idle = await measure(upToDate, repeats, size.warmUp);

    // One new migration; before every run each target is reset: its table and history row dropped.
    const name = migrationName('20270101_000000', 'svc-000', 'fan_out');
    const up = ['create table "bench_fan_out" ("id" serial primary key, "tenant" text not null);', 'create index "bench_fan_out_tenant_index" on "bench_fan_out" ("tenant");'];
    const file = ws.path('migrations', `${name}.ts`);
    writeFileSync(file, renderMigration({ name, service: 'svc-000', dependsOn: [], up, down: ['drop table "bench_fan_out";'] }));
    const script = psqlScript(ws.dir, [{ name, service: 'svc-000', file, up }]);
    const prepare = () => onEvery(urls, (c) => c.query(`drop table if exists "bench_fan_out"; delete from ${HISTORY} where "name" = '${name}'`));
    const verify = (run: { stdout: string; stderr: string }) =>
      onEvery(urls, async (c) => {
        const { rows } = await c.query(`select count(*)::int as "n" from ${HISTORY} where "name" = $1`, [name]);
        if (rows[0].n !== 1) throw new Error(`bench: fan-out: ${name} is not recorded once in ${c.database}:\n${run.stdout.slice(-3000)}${run.stderr.slice(-1000)}`);
      });
    const ours = { ...tributary('migrate --targets', ws.dir, ['migrate', '--targets', targetsFile, '--concurrency', String(CONCURRENCY)]), prepare, verify };
    // What a shell script would do: 8 loops in parallel, one psql per target.
    const loops = Array.from({ length: CONCURRENCY }, (_, k) => urls.filter((_, i) => i % CONCURRENCY === k));
    const shell = loops.map((chunk) => `(for url in ${chunk.map((u) => `'${u}'`).join(' ')}; do psql -X -q -o /dev/null -d "$url" -f '${script}' || exit 1; done) & pids="$pids $!"`);
    const waitAll = 'for pid in $pids; do wait $pid || exit 1; done';
    const baseline: Command = { label: '8 psql loops', cmd: 'sh', args: ['-c', [...shell, waitAll].join('\n')], cwd: ws.dir, prepare, verify };
    const one = await compare(ours, baseline, pairs, size.warmUp);

    const judged = size.factor === 4; // the budgets are set for 200 targets
    const scale = `${count} targets on 3 servers`;
    return [
      { key: 'fanout_up_to_date', title: 'migrate --targets, nothing pending', size: size.label, scale, ours: idle, budget: judged ? '< 5 s' : undefined, ok: judged ? idle.wallMs < 5000 : undefined, judgedWhenQuick: true },
      {
        key: 'fanout_one_migration_vs_psql',
        title: 'migrate --targets --concurrency 8, one new migration',
        size: size.label,
        scale,
        ours: one.ours,
        baseline: { ...one.baseline, label: '8 parallel psql loops' },
        ratio: one.ratio,
        budget: judged ? '≤ 1.5×' : undefined,
        ok: judged ? one.ratio <= 1.5 : undefined,
        judgedWhenQuick: true,
      },
    ];
  } finally {
    ws.dispose();
  }
}

const printed = (line: string) => (run: { stdout: string }) => {
  if (!run.stdout.includes(line)) throw new Error(`bench: fan-out: expected "${line}" in:\n${run.stdout.slice(-500)}`);
};

/** `count` target databases, round-robin over the clusters, each a copy of the template on its server. */
async function targetDatabases(clusters: Cluster[], template: string, count: number, label: string): Promise<string[]> {
  const urls: string[] = [];
  await Promise.all(
    clusters.map(async (cluster, s) => {
      for (let i = s; i < count; i += clusters.length) {
        await sqlOn(cluster.url('postgres'), `create database "${label}_${i}" template "${template}"`);
        urls[i] = cluster.url(`${label}_${i}`);
      }
    }),
  );
  return urls;
}

/** Runs `fn` on every URL, 16 connections at a time. */
async function onEvery(urls: string[], fn: (client: pg.Client) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const client = new pg.Client({ connectionString: urls[next++]! });
      await client.connect();
      try {
        await fn(client);
      } finally {
        await client.end();
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}
