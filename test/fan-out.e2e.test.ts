/**
 * Many databases (`--targets`): 30 target databases over three real PostgreSQL servers — the
 * test server at 5432 and two clusters this file starts itself, one of them asking for a
 * password — migrated by the real CLI: all reach the head, a failing target stops the run or
 * fails alone, canaries, a killed run resumes, overlapping runs apply each migration once.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockKey } from '../libs/migrate/src/db/lock.ts';
import { ADMIN_URL } from './support/database.ts';
import { startCluster, sqlOn, type Cluster } from './support/clusters.ts';
import { migrationSource } from './support/migrations.ts';
import { startMigrate, until } from './support/process.ts';
import { scratchWorkspace, type RunResult, type Workspace } from './support/workspace.ts';

const PASSWORD = 'fan-out s3cret';
const TARGETS = 30;
const HISTORY = 'public.tributary_migrations';
const STREAM = 3; // the workspace's committed migrations

let clusters: Cluster[] = [];
let ws: Workspace;
let urls: string[] = [];
const onTestServer: string[] = [];

const testServerUrl = (db: string) => ADMIN_URL.replace(/\/[^/]*$/, `/${db}`);

/** Names applied to the target, oldest first ([] without a history table). */
async function applied(url: string): Promise<string[]> {
  const [table] = await sqlOn(url, `select to_regclass('${HISTORY}') as "t"`);
  if (!table.t) return [];
  return (await sqlOn(url, `select "name" from ${HISTORY} where "status" = 'applied' order by "name"`)).map((r) => r.name);
}

/** What the test migrations wrote into the target's log table, by migration. */
async function logged(url: string): Promise<Record<string, number>> {
  const [table] = await sqlOn(url, `select to_regclass('public.fanout_log') as "t"`);
  if (!table.t) return {};
  const rows = await sqlOn(url, `select "name", count(*)::int as "n" from fanout_log group by "name"`);
  return Object.fromEntries(rows.map((r) => [r.name, r.n]));
}

function json(result: RunResult): any {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** The run as a user would see it: never the password, whatever happened. */
function noSecrets(result: RunResult): RunResult {
  expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  expect(result.stdout + result.stderr).not.toContain(encodeURIComponent(PASSWORD));
  return result;
}

const migrate = async (...args: string[]) => noSecrets(await ws.migrate(args));

function addMigration(name: string, statements: string[]): string {
  ws.write(`migrations/${name}.ts`, migrationSource(statements, { service: 'auth-service' }));
  return name;
}

beforeAll(async () => {
  clusters = await Promise.all([startCluster(), startCluster({ password: PASSWORD })]);
  const servers = [testServerUrl, clusters[0]!.url, clusters[1]!.url];
  const prefix = `tributary_fanout_${randomBytes(4).toString('hex')}`;
  await Promise.all(
    servers.map(async (urlOf, server) => {
      for (let i = server; i < TARGETS; i += servers.length) {
        await sqlOn(urlOf('postgres'), `create database "${prefix}_${i}"`);
        if (server === 0) onTestServer.push(`${prefix}_${i}`);
      }
    }),
  );
  urls = Array.from({ length: TARGETS }, (_, i) => servers[i % servers.length]!(`${prefix}_${i}`));
  ws = scratchWorkspace();
  ws.write('ops/tenants.txt', `# every tenant database\n\n${urls.map((u, i) => `${u}   # tenant ${i}`).join('\n')}\n`);
  ws.write('ops/reversed.txt', `${[...urls].reverse().join('\n')}\n`);
  ws.write('tributary.config.json', JSON.stringify({ targets: { tenants: { file: 'ops/tenants.txt' }, control: { query: `select url from tenants order by id`, url: testServerUrl(`${prefix}_control`) } } }));
  await sqlOn(ADMIN_URL, `create database "${prefix}_control"`);
  onTestServer.push(`${prefix}_control`);
  await sqlOn(testServerUrl(`${prefix}_control`), `create table tenants as select row_number() over () as id, url from unnest($1::text[]) as url`, [urls.slice(0, 3)]);
}, 120_000);

afterAll(async () => {
  for (const db of onTestServer) await sqlOn(ADMIN_URL, `drop database if exists "${db}" with (force)`).catch(() => {});
  await Promise.all(clusters.map((c) => c.stop()));
  ws?.dispose();
});

describe('migrate --targets over three PostgreSQL servers', () => {
  it('a failing target stops the run; with --continue-on-error it fails alone; fixed, every target reaches the head and showmigrations/check agree with the databases', async () => {
    // Target 2 (on the password cluster) already has a table the first migration creates.
    await sqlOn(urls[2]!, 'create table "user" ("id" int)');

    const stopped = await migrate('migrate', '--targets', 'tenants', '--concurrency', '2', '--json');
    expect(stopped.code).toBe(1);
    const first = json(stopped);
    expect(first.failed).toBe(1);
    expect(first.targets[2]).toMatchObject({ status: 'failed', target: expect.stringContaining(':***@') });
    expect(first.targets[2].error).toMatch(/auth-service_initial[\s\S]*"user" already exists/);
    expect(first.notStarted).toBeGreaterThanOrEqual(TARGETS - 10);
    const afterStop = await Promise.all(urls.map(applied));
    for (const [i, t] of first.targets.entries()) if (t.status === 'not-started') expect(afterStop[i]).toEqual([]);

    const atHead = afterStop.filter((names) => names.length === STREAM).length;
    const isolated = await migrate('migrate', '--targets', 'tenants', '--continue-on-error', '--json');
    expect(isolated.code).toBe(1);
    const second = json(isolated);
    expect(second).toMatchObject({ failed: 1, notStarted: 0, migrated: TARGETS - 1 - atHead, upToDate: atHead });
    expect(second.targets.filter((t: any) => t.status === 'failed').map((t: any) => t.target)).toEqual([second.targets[2].target]);
    expect((await Promise.all(urls.map(applied))).map((names) => names.length)).toEqual(urls.map((_, i) => (i === 2 ? 0 : STREAM)));

    const behind = await migrate('check', '--targets', 'tenants', '--json');
    expect(behind.code).toBe(1);
    const report = json(behind);
    expect(report).toMatchObject({ ok: false, behind: 1, failed: 0, atHead: TARGETS - 1 });
    expect(report.targets[2].problems.map((p: any) => p.kind)).toEqual(['pending', 'pending', 'pending']);

    await sqlOn(urls[2]!, 'drop table "user"');
    const resumed = await migrate('migrate', '--targets', 'tenants');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`Targets: 1 migrated, ${TARGETS - 1} up to date, 0 failed, 0 not started.`);

    const shown = await migrate('showmigrations', '--targets', 'tenants', '--json');
    expect(shown.code).toBe(0);
    const status = json(shown);
    expect(status).toMatchObject({ atHead: TARGETS, behind: 0, failed: 0 });
    for (const [i, names] of (await Promise.all(urls.map(applied))).entries()) {
      expect(status.targets[i]).toEqual({ target: expect.any(String), applied: names.length, pending: 0, head: names.at(-1), failed: null });
    }
    expect((await migrate('check', '--targets', 'tenants', '--json')).code).toBe(0);
  });

  it('--canary: a failing canary leaves every other target untouched; fixed, the run goes on', async () => {
    const m4 = addMigration('20261201_000004_auth-service_fanout_log', ['create table fanout_log ("name" text not null, "at" timestamptz not null default now())', "insert into fanout_log (\"name\") values ('m4')"]);
    await sqlOn(urls[0]!, 'create table fanout_log ("id" int)');

    const canary = await migrate('migrate', '--targets', 'tenants', '--canary', '3', '--json');
    expect(canary.code).toBe(1);
    const result = json(canary);
    // The other canaries ran alongside; each may or may not have started m4 before the failure stopped the run.
    expect(result.targets[0].status).toBe('failed');
    expect(result.targets.slice(3).every((t: any) => t.status === 'not-started')).toBe(true);
    expect(result.failed + result.migrated + result.notStarted).toBe(TARGETS);
    for (const names of await Promise.all(urls.slice(3).map(applied))) expect(names).not.toContain(m4);

    await sqlOn(urls[0]!, 'drop table fanout_log');
    const rest = await migrate('migrate', '--targets', 'tenants', '--canary', '3', '--json');
    expect(rest.code, rest.stderr).toBe(0);
    expect(json(rest)).toMatchObject({ failed: 0, migrated: TARGETS - result.migrated, upToDate: result.migrated });
    expect(await Promise.all(urls.map(logged))).toEqual(urls.map(() => ({ m4: 1 })));
  });

  it('a killed run resumes where each target stopped, applying nothing twice', async () => {
    const slow = (tag: string) => [`insert into fanout_log ("name") values ('${tag}')`, 'select pg_sleep(0.2)'];
    addMigration('20261201_000005_auth-service_slow_one', slow('m5'));
    addMigration('20261201_000006_auth-service_slow_two', slow('m6'));

    const run = startMigrate(ws, ['migrate', '--targets', 'tenants', '--concurrency', '3']);
    await run.waitFor(/✓ .*: migrated \(2 applied\)/);
    run.child.kill('SIGKILL');
    await run.exited;
    // A migration already sent may still commit on the server: read only once its sessions are gone.
    const sessions = async (url: string) => (await sqlOn(url, `select count(*)::int as "n" from pg_stat_activity where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()`))[0].n;
    await until(async () => (await Promise.all(urls.map(sessions))).every((n) => n === 0), 'the killed run\'s sessions to end');
    const before = await Promise.all(urls.map(logged));
    expect(before.filter((l) => l.m6 === 1).length).toBeGreaterThan(0);
    expect(before.filter((l) => !l.m6).length).toBeGreaterThan(0);

    const resumed = await migrate('migrate', '--targets', 'tenants', '--concurrency', '3', '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    const again = json(resumed);
    for (const [i, log] of (await Promise.all(urls.map(logged))).entries()) {
      expect(log).toEqual({ m4: 1, m5: 1, m6: 1 });
      // What the resumed run applied is exactly what the killed one had not.
      expect(again.targets[i].applied).toBe(2 - (before[i]!.m5 ?? 0) - (before[i]!.m6 ?? 0));
    }
  });

  it('two overlapping runs apply each migration once per target', async () => {
    addMigration('20261201_000007_auth-service_overlap_one', [`insert into fanout_log ("name") values ('m7')`, 'select pg_sleep(0.05)']);
    addMigration('20261201_000008_auth-service_overlap_two', [`insert into fanout_log ("name") values ('m8')`, 'select pg_sleep(0.05)']);

    const [forward, backward] = await Promise.all([
      migrate('migrate', '--targets', 'tenants', '--concurrency', '6', '--json'),
      migrate('migrate', '--targets', 'ops/reversed.txt', '--concurrency', '6', '--json'),
    ]);
    expect([forward.code, backward.code], forward.stderr + backward.stderr).toEqual([0, 0]);
    const a = json(forward).targets;
    const b = [...json(backward).targets].reverse();
    for (const [i, log] of (await Promise.all(urls.map(logged))).entries()) {
      expect(log).toEqual({ m4: 1, m5: 1, m6: 1, m7: 1, m8: 1 });
      expect(a[i].applied + b[i].applied).toBe(2);
    }
  });

  it('targets at the head are skipped without taking their lock', async () => {
    // Another runner holds target 0's migration lock: a run with nothing pending does not wait for it.
    const holder = new pg.Client({ connectionString: urls[0] });
    await holder.connect();
    try {
      await holder.query(`select pg_advisory_lock(${lockKey(HISTORY)})`);
      const result = await migrate('migrate', '--targets', 'tenants', '--lock-wait', '1', '--json');
      expect(result.code, result.stderr).toBe(0);
      expect(json(result)).toMatchObject({ upToDate: TARGETS, migrated: 0, failed: 0 });
    } finally {
      await holder.end();
    }
  });

  it('an unreachable target and a bad password are one failed target each, masked; a query group lists targets from a control database, for the CLI and Nx alike', async () => {
    const badPassword = clusters[1]!.url('postgres').replace(encodeURIComponent(PASSWORD), 'wrong-pw');
    ws.write('ops/bad.txt', `${urls[0]}\n${badPassword}\npostgres://postgres:${encodeURIComponent(PASSWORD)}@127.0.0.1:1/nowhere\n`);
    const result = await migrate('migrate', '--targets', 'ops/bad.txt', '--continue-on-error', '--json');
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).not.toContain('wrong-pw');
    const [ok, bad, unreachable] = json(result).targets;
    expect(ok.status).toBe('up-to-date');
    expect(bad).toMatchObject({ status: 'failed', target: expect.stringContaining('postgres:***@'), error: expect.stringMatching(/password authentication failed/) });
    expect(unreachable).toMatchObject({ status: 'failed', error: expect.stringMatching(/^Cannot connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED/) });

    const fromControl = await migrate('showmigrations', '--targets', 'control', '--json');
    expect(fromControl.code).toBe(0);
    expect(json(fromControl)).toMatchObject({ atHead: 3, behind: 0, failed: 0 });
    const nx = noSecrets(await ws.nx(['run', 'migrations:migrate', '--targets', 'control', '--concurrency', '2']));
    expect(nx.code, nx.stderr).toBe(0);
    expect(nx.stdout).toContain('Targets: 0 migrated, 3 up to date, 0 failed, 0 not started.');
  });
});
