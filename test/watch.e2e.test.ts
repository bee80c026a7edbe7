/**
 * `migrate watch` in a scratch workspace: each save of a model file is evaluated in a fresh
 * process (a second edit shows both changes, never the stale first), `--apply` writes and
 * applies the migration on PostgreSQL, and `--apply` is refused in production.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { bounded, exited, stop } from './support/gateway.ts';
import { startMigrate, type Running } from './support/process.ts';
import { scratchWorkspace, type Workspace } from './support/workspace.ts';

let ws: Workspace;
let db: TestDatabase;
const started: Running[] = [];

beforeAll(async () => {
  ws = scratchWorkspace();
  db = await createTestDatabase();
});

afterEach(async () => {
  for (const running of started.splice(0)) if (running.child.exitCode === null) await stop(running, 'SIGKILL').catch(() => {});
});

afterAll(async () => {
  await db?.drop();
  ws?.dispose();
});

function watch(args: string[] = [], env: Record<string, string> = {}): Running {
  const running = startMigrate(ws, ['watch', ...args], { DATABASE_URL: db.url, ...env });
  started.push(running);
  return running;
}

const printed = (running: Running, pattern: RegExp) => bounded(running.waitFor(pattern), `waiting for ${pattern}`, running);

describe('migrate watch', () => {
  it('shows the pending migration of the service whose model was saved, re-reading the models each time', async () => {
    const watcher = watch(['--debounce', '100']);
    await printed(watcher, /No model changes without a migration\./);
    expect(watcher.output().stderr).toContain('Watching the models of auth-service, billing-service, catalog-service (preview only');

    ws.edit('apps/auth-service/src/db/models/user.ts', 'displayName: p.string().length(120),', 'displayName: p.string().length(120),\n    nickname: p.string().length(40).nullable(),');
    await printed(watcher, /drop column "nickname"/);
    expect(watcher.output().stderr).toContain('changed: apps/auth-service/src/db/models/user.ts');
    expect(watcher.output().stdout).toMatch(/auth-service: would write migrations\/\d{8}_\d{6}_auth-service_auto\.ts \(1 statement\)/);
    expect(watcher.output().stdout).toContain('add "nickname" varchar(40) null;');

    ws.edit('apps/auth-service/src/db/models/user.ts', "nickname: p.string().length(40).nullable(),", "nickname: p.string().length(40).nullable(),\n    age: p.integer().nullable(),");
    await printed(watcher, /drop column "nickname", drop column "age"/);
    const second = watcher.output().stdout.split('auth-service: would write').at(-1)!;
    expect(second).toContain('add "nickname" varchar(40) null, add "age" int null');
    expect(watcher.output().stdout).not.toMatch(/billing-service: would write|catalog-service: would write/);

    const result = await stop(watcher, 'SIGINT');
    expect(result.code).toBe(0);
    expect(ws.migrations()).toHaveLength(3); // a preview writes nothing
  });

  it('--apply writes and applies the migration on save', async () => {
    expect((await ws.migrate(['migrate'], { DATABASE_URL: db.url })).code).toBe(0);
    const watcher = watch(['--apply', '-m', 'from watch', '--debounce', '100']);
    await printed(watcher, /drop column "nickname", drop column "age"/); // the edits of the test above, previewed at start
    expect(ws.migrations()).toHaveLength(3);

    ws.edit('apps/catalog-service/src/db/models/product.ts', 'active: p.boolean().default(true),', 'active: p.boolean().default(true),\n    weightGrams: p.integer().nullable(),');
    await printed(watcher, /Applied 2 migrations: /);
    const stdout = watcher.output().stdout;
    expect(stdout).toMatch(/auth-service: wrote migrations\/\d{8}_\d{6}_auth-service_from_watch\.ts \(1 statement\)/);
    expect(stdout).toMatch(/catalog-service: wrote migrations\/\d{8}_\d{6}_catalog-service_from_watch\.ts \(1 statement\)/);
    expect(ws.migrations()).toHaveLength(5);
    const columns = await db.query(`select table_name, column_name from information_schema.columns where column_name in ('nickname', 'age', 'weight_grams') order by column_name`);
    expect(columns).toEqual([
      { table_name: 'user', column_name: 'age' },
      { table_name: 'user', column_name: 'nickname' },
      { table_name: 'product', column_name: 'weight_grams' },
    ]);
    await stop(watcher, 'SIGTERM');
  });

  it('names a model file that fails to load, and keeps watching', async () => {
    const watcher = watch(['--debounce', '100']);
    await printed(watcher, /No model changes without a migration\./);
    ws.write('apps/catalog-service/src/db/models/broken.ts', "import { defineEntity } from '@mikro-orm/core';\nexport const Broken = defineEntity({ name: 'Broken', properties: {\n");
    await printed(watcher, /✗ Service catalog-service: model file apps\/catalog-service\/src\/db\/models\/broken\.ts(:\d+:\d+)? failed to load/);
    ws.remove('apps/catalog-service/src/db/models/broken.ts');
    await printed(watcher, /No model changes without a migration\.[\s\S]*No model changes without a migration\./); // again, once it is gone
    expect(watcher.output().stderr).toContain('changed: apps/catalog-service/src/db/models/broken.ts');
    expect((await stop(watcher, 'SIGINT')).code).toBe(0);
  });

  it('refuses --apply when NODE_ENV=production, in one sentence', async () => {
    const result = await exited(watch(['--apply'], { NODE_ENV: 'production' }));
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('error: migrate watch --apply refuses to run with NODE_ENV=production: deploy migrations with `migrate migrate` instead.');
  });
});
