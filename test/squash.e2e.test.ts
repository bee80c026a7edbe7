/**
 * `squash`: one migration replaces a service's history. On real PostgreSQL: a fresh database runs
 * only the squash and ends with the same schema as one built from the originals; a database with
 * all of them records it without running it; one with part of them runs the rest, then records it.
 * Data migrations are refused unless dropped on purpose; another service's dependsOn into the
 * range means the squash; `check` (also `--targets`) says when the replaced files can go, and after
 * they are deleted the stream still checks clean; a second squash over the first is planned right on
 * a database that has only the first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { describeSchema } from './support/schema.ts';
import { scratchWorkspace, type Workspace } from './support/workspace.ts';

let ws: Workspace;
let all: TestDatabase; // every original applied before the squash exists
let partial: TestDatabase; // the originals up to the avatar migration
let fresh: TestDatabase;
const auth = (slug: string) => ws.migrations().find((f) => f.includes(`_auth-service_${slug}`))!.slice(0, -3);
const history = async (db: TestDatabase) => (await db.query('select name from tributary_migrations order by id')).map((r) => r.name as string);

beforeAll(async () => {
  ws = scratchWorkspace();
  [all, partial, fresh] = await Promise.all([createTestDatabase(), createTestDatabase(), createTestDatabase()]);
});

afterAll(async () => {
  ws?.dispose();
  await Promise.all([all, partial, fresh].map((db) => db?.drop()));
});

const cli = async (args: string[], db?: TestDatabase) => {
  const result = await ws.migrate(args, db ? { DATABASE_URL: db.url } : {});
  return { ...result, both: result.stdout + result.stderr };
};

describe('squash --service auth-service', () => {
  it('refuses a range with a data migration unless told to drop it, naming the migration and the flag', async () => {
    ws.edit('apps/auth-service/src/db/models/user.ts', 'displayName: p.string().length(120),', 'displayName: p.string().length(120),\n    avatarUrl: p.text().nullable(),');
    expect((await cli(['makemigrations', '--service', 'auth-service', '-m', 'avatar'])).code).toBe(0);
    expect((await cli(['makemigrations', '--service', 'auth-service', '--empty', '-m', 'backfill'])).code).toBe(0);
    ws.edit(`migrations/${auth('backfill')}.ts`, /    \/\/ this\.addSql\(`update[^\n]*\n/, "    this.addSql(`update \"user\" set \"role\" = 'member' where \"role\" = '';`);\n");
    ws.edit('apps/auth-service/src/db/models/session.ts', 'revokedAt: p.datetime().nullable(),', 'revokedAt: p.datetime().nullable(),\n    ipAddress: p.string().length(45).nullable(),');
    expect((await cli(['makemigrations', '--service', 'auth-service', '-m', 'session ip'])).code).toBe(0);

    expect((await cli(['migrate'], all)).code).toBe(0);
    expect((await cli(['migrate', '--to', auth('avatar')], partial)).code).toBe(0);

    const refused = await cli(['squash', '--service', 'auth-service', '-m', 'baseline']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Migration ${auth('backfill')} (auth-service) is a data migration`);
    expect(refused.stderr).toContain('--drop-data-migrations');
    expect(ws.migrations().some((f) => f.includes('baseline'))).toBe(false);
  });

  it('writes one migration that replaces them all, holding the schema they produce', async () => {
    const replaced = ['initial', 'avatar', 'backfill', 'session_ip'].map(auth);
    const result = await cli(['squash', '--service', 'auth-service', '-m', 'baseline', '--drop-data-migrations']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`data migration ${auth('backfill')} is left out`);
    const source = ws.read(`migrations/${auth('baseline')}.ts`);
    expect(source).toContain(`static replaces: string[] = [\n${replaced.map((n) => `    '${n}',\n`).join('')}  ];`);
    expect(source).toMatch(/create table "user" \(.*"avatar_url" text null/);
    expect(source).toMatch(/create table "session" \(.*"ip_address" varchar\(45\) null/);
    expect(source).toContain('drop table if exists "user" cascade');
    expect(source).not.toContain('update "user"');
    // The shard lists the squash too (nothing to rebuild), and nothing is left to generate.
    expect(JSON.parse(ws.shard('auth-service')).migrations.at(-1)).toBe(auth('baseline'));
    expect((await cli(['makemigrations', '--check'])).code).toBe(0);
  });

  it('a fresh database runs only the squash, before the billing migration that depended on the replaced initial', async () => {
    const result = await cli(['migrate', '--service', 'billing-service'], fresh);
    expect(result.code, result.stderr).toBe(0);
    const applied = await history(fresh);
    expect(applied).toEqual([auth('baseline'), '20261123_130023_billing-service_initial']);
    expect((await cli(['migrate'], fresh)).code).toBe(0);
    expect(await describeSchema(fresh.query)).toEqual(await describeSchema(all.query));
    const shown = JSON.parse((await cli(['showmigrations', '--json'], fresh)).stdout);
    expect(shown.pending).toBe(0);
    expect(shown.migrations.map((m: any) => m.name)).not.toContain(auth('initial'));
    // the picture agrees: the migrations the squash stands for are not pending
    const graph = (await cli(['graph'], fresh)).stdout;
    expect(graph).toContain('all applied"]');
    expect(graph).not.toContain(':::pending');
  });

  it('a database with every replaced migration applied records the squash without running it', async () => {
    const result = await cli(['migrate'], all);
    expect(result.code, result.stderr).toBe(0);
    expect((await history(all)).at(-1)).toBe(auth('baseline'));
    const check = JSON.parse((await cli(['check', '--json'], all)).stdout);
    expect(check.problems).toEqual([]);
    expect(check.notes).toHaveLength(1);
    expect(check.notes[0].message).toContain(`is past squash ${auth('baseline')}: the 4 files it replaces (${auth('initial')} … ${auth('session_ip')}) can be deleted`);
  });

  it('a database with part of them applied runs the rest, then records the squash, and ends with the same schema', async () => {
    expect(await history(partial)).toContain(auth('avatar'));
    const result = await cli(['migrate'], partial);
    expect(result.code, result.stderr).toBe(0);
    const applied = await history(partial);
    expect(applied.slice(applied.indexOf(auth('avatar')) + 1).filter((n) => n.includes('auth-service'))).toEqual([auth('backfill'), auth('session_ip'), auth('baseline')]);
    expect(await describeSchema(partial.query)).toEqual(await describeSchema(all.query));
  });

  it('check --targets says when every database is past the squash; rollback keeps what depends on it', async () => {
    ws.write('targets.txt', [all, partial, fresh].map((db) => db.url).join('\n'));
    const report = JSON.parse((await cli(['check', '--targets', 'targets.txt', '--json'])).stdout);
    expect(report.ok).toBe(true);
    expect(report.notes.map((n: any) => n.message)).toEqual([expect.stringContaining(`Every target is past squash ${auth('baseline')}: the 4 files it replaces`)]);
    // billing's initial migration depends on auth's replaced initial, so on the squash.
    const refused = await cli(['rollback', '--service', 'auth-service', '--yes'], fresh);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Cannot roll back ${auth('baseline')}: applied migration 20261123_130023_billing-service_initial (billing-service) depends on it`);
  });

  it('once the replaced files are deleted, the stream still checks clean everywhere and nothing is out of order', async () => {
    for (const slug of ['initial', 'avatar', 'backfill', 'session_ip']) ws.remove(`migrations/${auth(slug)}.ts`);
    const offline = await cli(['check', '--offline']);
    expect(offline.code, offline.both).toBe(0);
    for (const db of [all, partial, fresh]) {
      const check = await cli(['check', '--json'], db);
      expect(JSON.parse(check.stdout).problems, check.both).toEqual([]);
    }
    // billing's dependsOn names the deleted initial: the graph reads it as the squash
    expect((await cli(['graph'], fresh)).stdout).toContain('billing_service -->|1 dependsOn| auth_service');
  });

  it('a second squash replaces the first: plan on a database with only the first replays it before what depends on it, and says the new squash is only recorded', async () => {
    ws.edit('apps/auth-service/src/db/models/user.ts', 'displayName: p.string().length(120),', 'displayName: p.string().length(120),\n    nickname: p.string().length(60).nullable(),');
    expect((await cli(['makemigrations', '--service', 'auth-service', '-m', 'nickname'])).code).toBe(0);
    const squashed = await cli(['squash', '--service', 'auth-service', '-m', 'second baseline']);
    expect(squashed.code, squashed.both).toBe(0);
    // fresh applied the first squash and billing's initial, whose dependsOn the newest squash now stands for
    const result = await cli(['plan', '--json'], fresh);
    const plan = JSON.parse(result.stdout);
    expect(plan.verification, result.both).toMatchObject({ ok: true, failure: null });
    expect(plan.migrations.map((m: any) => [m.name, m.recordOnly])).toEqual([
      [auth('nickname'), false],
      [auth('second_baseline'), true],
    ]);
    const text = (await cli(['plan'], fresh)).stdout;
    expect(text).toContain(`2. ${auth('second_baseline')} (auth-service) — recorded without running`);
    expect((await cli(['migrate', '--dry-run'], fresh)).stdout).toContain(`-- ${auth('second_baseline')}\n-- recorded without running`);
  });
});
