/**
 * The boot check in-process on PostgreSQL, as an app calls it with its own connected ORM: it
 * warns with each pending migration's name, refuses in strict mode without touching anything,
 * applies under the lock with autoMigrate, and reports edited migrations and model changes.
 */
import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import { scratchWorkspace, type Workspace } from '../../../test/support/workspace.ts';
import { checkMigrationsOnStartup, readMigrationState } from './boot.ts';
import { loadConfig } from './config/config.ts';
import { adoptOrm } from './db/adopt-orm.ts';
import { withParts } from './db/database.ts';
import { checksumOf } from './stream/stream.ts';
import { TributaryError } from './errors.ts';

let ws: Workspace;
let db: TestDatabase;
let orm: MikroORM;
let names: string[];
const lines: string[] = [];
const log = (line: string) => lines.push(line);

beforeAll(async () => {
  ws = scratchWorkspace();
  db = await createTestDatabase();
  orm = await MikroORM.init({ clientUrl: db.url, entities: [], discovery: { warnWhenNoEntities: false } });
  names = ws.migrations().map((f) => f.replace(/\.ts$/, ''));
});

afterAll(async () => {
  await orm?.close(true);
  await db?.drop();
  ws?.dispose();
});

describe('checkMigrationsOnStartup', () => {
  it('warns by default, naming each pending migration, and changes nothing', async () => {
    lines.length = 0;
    const status = await checkMigrationsOnStartup({ orm, cwd: ws.dir, log });
    expect(status).toMatchObject({ status: 'degraded', pending: names, modelChanges: [], problems: [], migrated: [], migrations: { applied: 0, pending: 3, head: null } });
    for (const name of names) expect(lines).toContain(`⚠ Migration ${name} is pending on the application database.`);
    expect(await db.query(`select to_regclass('tributary_migrations') as t`)).toEqual([{ t: null }]);
  });

  it('strict mode throws one sentence naming the pending migrations', async () => {
    const attempt = checkMigrationsOnStartup({ orm, cwd: ws.dir, strict: true, log });
    await expect(attempt).rejects.toBeInstanceOf(TributaryError);
    await expect(attempt).rejects.toThrow(`Strict startup check failed for the application database: 3 pending migrations (${names.join(', ')}). Run \`npx migrate migrate\` first (or start with AUTO_MIGRATE=true).`);
  });

  it('autoMigrate applies them under the lock on the same connection, then strict passes', async () => {
    lines.length = 0;
    const status = await checkMigrationsOnStartup({ orm, cwd: ws.dir, autoMigrate: true, strict: true, log });
    expect(status).toMatchObject({ status: 'ok', migrated: names, warnings: [], migrations: { applied: 3, pending: 0, head: names[2] } });
    // one line as each migration starts and one as it ends (generated files go out together: all
    // three start before the first ends), then the summary
    const body = lines.slice(0, -1);
    expect(body.filter((line) => line.startsWith('Applying'))).toEqual(names.map((name, i) => `Applying ${i + 1}/3 ${name}…`));
    expect(body.filter((line) => !line.startsWith('Applying'))).toEqual(names.map((name) => expect.stringMatching(new RegExp(`^  applied ${name} \\(\\d+ ms\\)$`))));
    for (const [i, name] of names.entries()) expect(body.indexOf(`Applying ${i + 1}/3 ${name}…`)).toBeLessThan(body.findIndex((line) => line.startsWith(`  applied ${name} `)));
    expect(lines.at(-1)).toBe(`Applied 3 pending migrations: ${names.join(', ')}.`);
    expect((await db.query('select name from tributary_migrations order by id')).map((r) => r.name)).toEqual(names);
    expect(await orm.em.getConnection().execute('select count(*)::int as n from "user"')).toEqual([{ n: 0 }]); // the ORM is still open
    // Every hold of the migration lock was given back before the pooled connection went back to the app.
    expect(await db.query(`select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database where l.locktype = 'advisory' and d.datname = current_database()`)).toEqual([{ n: 0 }]);
  });

  it('reports an applied migration edited since, and a service whose models changed', async () => {
    // A workspace of its own: this process has imported the first one's models already (ESM cache).
    const edited = scratchWorkspace();
    try {
      const file = `migrations/${names[0]}.ts`;
      edited.write(file, `${edited.read(file)}\n// edited\n`);
      edited.edit('apps/catalog-service/src/db/models/category.ts', 'name: p.string().length(120),', 'name: p.string().length(120),\n    position: p.integer().default(0),');
      const status = await checkMigrationsOnStartup({ orm, cwd: edited.dir, log: () => {} });
      expect(status.status).toBe('degraded');
      expect(status.modelChanges).toEqual(['catalog-service']);
      expect(status.problems).toEqual([`Migration ${file} was edited after it was applied (checksum mismatch); restore it, or run \`migrate repair\` if the edit is intended.`]);
      const quick = await checkMigrationsOnStartup({ orm, cwd: edited.dir, modelChanges: false, log: () => {} });
      expect(quick.modelChanges).toEqual([]);
      await expect(checkMigrationsOnStartup({ orm, cwd: edited.dir, strict: true, log: () => {} })).rejects.toThrow(/model changes without a migration in catalog-service; Migration migrations\/.* was edited after it was applied/);
    } finally {
      edited.dispose();
    }
  });

  it('strict mode with pending migrations and model changes names both, and both fixes', async () => {
    // A workspace of its own (this process has imported the others' models) and a database that applied nothing.
    const changed = scratchWorkspace();
    const empty = await createTestDatabase();
    try {
      changed.edit('apps/catalog-service/src/db/models/category.ts', 'name: p.string().length(120),', 'name: p.string().length(120),\n    position: p.integer().default(0),');
      const attempt = checkMigrationsOnStartup({ cwd: changed.dir, databaseUrl: empty.url, strict: true, log: () => {} });
      await expect(attempt).rejects.toThrow(
        `Strict startup check failed for PostgreSQL 127.0.0.1:5432/${empty.name}: 3 pending migrations (${names.join(', ')}); model changes without a migration in catalog-service. Run \`npx migrate makemigrations --service catalog-service\` to write the missing migration for the model changes, then \`npx migrate migrate\` to apply it with the pending ones (AUTO_MIGRATE=true applies pending migrations but writes none).`,
      );
    } finally {
      await empty.drop();
      changed.dispose();
    }
  });

  it('logs a first line when loading the models takes over a second', async () => {
    const slow = scratchWorkspace();
    try {
      // a model whose import takes 1.5 s: as many model files on a slow machine
      slow.edit('apps/catalog-service/src/db/models/category.ts', 'import { defineEntity', 'await new Promise((resolve) => setTimeout(resolve, 1500));\nimport { defineEntity');
      const logged: string[] = [];
      const status = await checkMigrationsOnStartup({ cwd: slow.dir, databaseUrl: db.url, log: (line) => logged.push(line) });
      expect(status.status).toBe('ok');
      expect(logged).toEqual(['Loading the models of 3 services…']);
    } finally {
      slow.dispose();
    }
  });

  it('names at most 50 pending migrations in the log and 5 in the strict refusal', async () => {
    const crowded = scratchWorkspace();
    const empty = await createTestDatabase();
    try {
      for (let i = 0; i < 60; i++) {
        const name = `20270101_0000${String(i).padStart(2, '0')}_catalog-service_data_${i}`;
        crowded.write(`migrations/${name}.ts`, `import { Migration } from '@mikro-orm/migrations';\nexport class M${i} extends Migration {\n  override async up(): Promise<void> {\n    this.addSql('select 1');\n  }\n}\n`);
      }
      const logged: string[] = [];
      const status = await checkMigrationsOnStartup({ cwd: crowded.dir, databaseUrl: empty.url, modelChanges: false, log: (line) => logged.push(line) });
      expect(status.pending).toHaveLength(63);
      expect(logged.filter((line) => / is pending on /.test(line))).toHaveLength(50);
      expect(logged).toContain('⚠ … and 13 more pending migrations (`npx migrate showmigrations` lists them).');
      const strict = checkMigrationsOnStartup({ cwd: crowded.dir, databaseUrl: empty.url, modelChanges: false, strict: true, log: () => {} });
      await expect(strict).rejects.toThrow(`63 pending migrations (${names.join(', ')}, 20270101_000000_catalog-service_data_0, 20270101_000001_catalog-service_data_1, … 58 more).`);
    } finally {
      await empty.drop();
      crowded.dispose();
    }
  });

  it('opens and closes its own connection when given none', async () => {
    const status = await checkMigrationsOnStartup({ cwd: ws.dir, databaseUrl: db.url, modelChanges: false, log: () => {} });
    expect(status).toMatchObject({ status: 'ok', database: `PostgreSQL 127.0.0.1:5432/${db.name}` });
    const sessions = await db.query(`select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'tributary'`, [db.name]);
    expect(sessions).toEqual([{ n: 0 }]);
  });

  it('readMigrationState is what /health reports', async () => {
    const state = await readMigrationState(adoptOrm(orm), loadConfig({ cwd: ws.dir }));
    expect(state).toEqual({ migrations: { applied: 3, pending: 0, head: names[2] }, pending: [], problems: [] });
  });

  it('at the head, readMigrationState reads one row of the history table, not the whole table', async () => {
    const config = loadConfig({ cwd: ws.dir });
    const app = adoptOrm(orm);
    const rowsRead: number[] = [];
    const counting = withParts(app, { read: async (sql) => { const rows = await app.read(sql); rowsRead.push(rows.length); return rows; } });
    expect(await readMigrationState(counting, config)).toEqual({ migrations: { applied: 3, pending: 0, head: names[2] }, pending: [], problems: [] });
    expect(rowsRead).toEqual([1]);
    // A server that cannot digest (no sha256() before PostgreSQL 11): every row is read instead.
    const noDigest = withParts(app, { read: async (sql) => (sql.includes('sha256') ? Promise.reject(new Error('function sha256(bytea) does not exist')) : app.read(sql)) });
    expect(await readMigrationState(noDigest, config)).toEqual({ migrations: { applied: 3, pending: 0, head: names[2] }, pending: [], problems: [] });
  });

  it('is not at the head when the history holds a failure, a migration without its file, or a different checksum', async () => {
    const config = loadConfig({ cwd: ws.dir });
    const cases: Array<{ change: string; undo: string; problem: RegExp }> = [
      { change: `insert into tributary_migrations ("name", "service", "checksum", "status", "error") values ('20991231_235959_auth-service_later', 'auth-service', repeat('0', 64), 'failed', ': boom')`, undo: `delete from tributary_migrations where "name" = '20991231_235959_auth-service_later'`, problem: /20991231_235959_auth-service_later/ },
      { change: `insert into tributary_migrations ("name", "service", "checksum") values ('20991231_235959_auth-service_gone', 'auth-service', repeat('0', 64))`, undo: `delete from tributary_migrations where "name" = '20991231_235959_auth-service_gone'`, problem: /20991231_235959_auth-service_gone/ },
      { change: `update tributary_migrations set "checksum" = repeat('0', 64) where "name" = '${names[1]}'`, undo: `update tributary_migrations set "checksum" = '${checksumOf(ws.read(`migrations/${names[1]}.ts`))}' where "name" = '${names[1]}'`, problem: /checksum mismatch/ },
    ];
    for (const { change, undo, problem } of cases) {
      await db.query(change);
      try {
        const state = await readMigrationState(adoptOrm(orm), config);
        expect(state.problems.join('\n')).toMatch(problem);
      } finally {
        await db.query(undo);
      }
    }
    expect((await readMigrationState(adoptOrm(orm), config)).problems).toEqual([]);
  });
});
