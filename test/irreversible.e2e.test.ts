/**
 * Rollback never pretends: a migration PostgreSQL cannot undo (`static irreversible = true`), or
 * whose down() does nothing, is refused before anything is reverted — unless the file says there
 * is nothing to undo (`static emptyDown = true`), in which case rollback only un-records it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { migrationSource as migration } from './support/migrations.ts';
import { scratchWorkspace, type RunResult, type Workspace } from './support/workspace.ts';

let ws: Workspace;
let db: TestDatabase;
let env: Record<string, string>;

const MOOD = 'migrations/20300101_000000_auth-service_mood_type.ts';
const SAD = 'migrations/20300101_000001_auth-service_mood_sad.ts';
const NOTE = 'migrations/20300101_000002_auth-service_note_table.ts';

beforeAll(async () => {
  ws = scratchWorkspace();
  db = await createTestDatabase();
  env = { DATABASE_URL: db.url };
  ws.write(MOOD, migration([`create type "mood" as enum ('happy')`], { down: ['drop type "mood"'] }));
  ws.write(
    SAD,
    migration([`alter type "mood" add value 'sad'`], {
      statics: ['// PostgreSQL cannot remove a value from an enum type ("mood" gains \'sad\').', 'static irreversible = true;'],
      down: [],
    }),
  );
  ws.write(NOTE, migration(['create table "note" ("id" int)'], { down: ['drop table "note"'] }));
  const result = await ws.migrate(['migrate'], env);
  expect(result.code, result.stderr).toBe(0);
});

afterAll(async () => {
  await db?.drop();
  ws?.dispose();
});

const applied = async () => (await db.query(`select name from tributary_migrations where status = 'applied' order by id`)).map((r) => r.name as string);
const moodValues = async () => (await db.query(`select unnest(enum_range(null::mood))::text as v`)).map((r) => r.v as string);
const noteExists = async () => (await db.query(`select to_regclass('note') is not null as e`))[0].e as boolean;

function expectRefusal(result: RunResult, file: string, reason: RegExp): void {
  expect(result.code, `${result.stderr}${result.stdout}`).toBe(1);
  const error = result.stderr.split('\n').find((line) => line.startsWith('error: '));
  expect(error).toContain(file);
  expect(error).toMatch(reason);
  expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(result.stdout).not.toContain('Rolled back');
}

describe('rollback refuses what it cannot undo', () => {
  it('rollback -s 2 where the second is irreversible reverts nothing, not even the first', async () => {
    const before = await applied();
    const result = await ws.migrate(['rollback', '-s', '2'], env);
    expectRefusal(result, SAD, /static irreversible = true/);
    expect(await applied()).toEqual(before);
    expect(await noteExists()).toBe(true);
  });

  it('an enum-value migration declared irreversible is refused: exit 1, named, nothing reverted', async () => {
    expect((await ws.migrate(['rollback'], env)).code).toBe(0); // the note table: reversible
    expect(await noteExists()).toBe(false);
    const before = await applied();
    const result = await ws.migrate(['rollback'], env);
    expectRefusal(result, SAD, /irreversible/);
    expect(result.stderr).not.toContain('no down()');
    expect(await applied()).toEqual(before);
    expect(await moodValues()).toEqual(['happy', 'sad']);
    // a dry run says the same, before anything
    expectRefusal(await ws.migrate(['rollback', '--dry-run'], env), SAD, /irreversible/);
  });
});

describe('a down() that does nothing', () => {
  let file: string;

  beforeAll(async () => {
    ws.remove(SAD); // forget the irreversible one so the next rollbacks reach the data migration
    await db.query(`delete from tributary_migrations where name = '20300101_000001_auth-service_mood_sad'`);
    const made = await ws.migrate(['makemigrations', '--empty', '--service', 'auth-service', '-m', 'backfill names'], env);
    expect(made.code, made.stderr).toBe(0);
    file = `migrations/${ws.migrations().find((f) => f.endsWith('_auth-service_backfill_names.ts'))!}`;
    expect((await ws.migrate(['migrate'], env)).code).toBe(0);
  });

  it('the --empty template is refused until its author writes down() or declares emptyDown', async () => {
    expect(ws.read(file)).not.toMatch(/^\s*static emptyDown = true;/m);
    const before = await applied();
    expect(before.at(-1)).toBe(file.slice('migrations/'.length, -3));
    const result = await ws.migrate(['rollback'], env);
    expectRefusal(result, file, /a down\(\) that does nothing.*static emptyDown = true/);
    expect(await applied()).toEqual(before);
  });

  it('static emptyDown = true rolls it back: un-recorded, nothing else changed', async () => {
    ws.edit(file, /\n\s*\/\/ static emptyDown = true;/, '\n  static emptyDown = true;');
    expect((await ws.migrate(['repair'], env)).code).toBe(0); // the edit is intended
    const before = await applied();
    const result = await ws.migrate(['rollback'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Rolled back 1 migration.');
    expect(await applied()).toEqual(before.slice(0, -1));
    expect(await moodValues()).toEqual(['happy', 'sad']);
  });
});

describe('a down() that only queries directly', () => {
  it('is not mistaken for an empty one: rollback runs it', async () => {
    const file = 'migrations/20300201_000000_auth-service_direct_down.ts';
    ws.write(
      file,
      migration(['create table "direct_note" ("id" int)'], { statics: [] }).replace(
        /\n}\n$/,
        `\n  override async down(): Promise<void> {\n    await this.execute('drop table "direct_note"');\n  }\n}\n`,
      ),
    );
    expect((await ws.migrate(['migrate'], env)).code).toBe(0);
    const result = await ws.migrate(['rollback'], env);
    expect(result.code, result.stderr).toBe(0);
    expect((await db.query(`select to_regclass('direct_note') is not null as e`))[0].e).toBe(false);
    expect(await applied()).not.toContain('20300201_000000_auth-service_direct_down');
  });
});
