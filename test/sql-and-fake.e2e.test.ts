/**
 * `migrate sql NAME [--down]` prints any migration's SQL without a database (Django's
 * sqlmigrate), and `rollback --fake` un-records without running down() — also an irreversible
 * migration, the way out of a mistaken `migrate --fake`.
 */
import { describe, expect, it } from 'vitest';
import { workspaceWithDatabase } from './support/fixture.ts';
import { migrationSource as migration } from './support/migrations.ts';

const { ws, db, env } = workspaceWithDatabase({ withStream: false });

describe('sql NAME', () => {
  it("prints up()'s or down()'s SQL with no database at all, and names an unknown migration", async () => {
    ws.write('migrations/20300101_000001_auth-service_a.ts', migration(['create table "a" ("id" int)'], { down: ['drop table "a"'] }));
    const offline = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    const up = await ws.migrate(['sql', '20300101_000001_auth-service_a'], offline);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('create table "a" ("id" int);');
    const down = await ws.migrate(['sql', '20300101_000001_auth-service_a.ts', '--down'], offline);
    expect(down.stdout).toContain('drop table "a";');
    const unknown = await ws.migrate(['sql', 'nope'], offline);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error: sql nope: no migration of that name in the stream.');
  });
});

describe('sql NAME of a migration that queries the database itself', () => {
  it('prints the collected SQL, and each query it sends itself as a comment, apart from that SQL', async () => {
    const source = migration(['update "a" set "id" = 1']).replace("    this.addSql(", "    await this.execute('select count(*) from \"a\"');\n    this.addSql(");
    ws.write('migrations/20300101_000003_auth-service_counts.ts', source);
    const printed = await ws.migrate(['sql', '20300101_000003_auth-service_counts'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain('-- it also sends this query itself when it runs (outside the SQL below; without a database it was answered with no rows): select count(*) from "a"\nupdate "a" set "id" = 1;');
    ws.remove('migrations/20300101_000003_auth-service_counts.ts');
  });
});

describe('rollback --fake', () => {
  it('un-records without running down(), even an irreversible migration', async () => {
    ws.write('migrations/20300101_000002_auth-service_enum.ts', migration(["create type \"mood\" as enum ('ok')", "alter type \"mood\" add value 'sad'"], { statics: ['static irreversible = true;'] }));
    expect((await ws.migrate(['migrate'], env)).code).toBe(0);
    const refused = await ws.migrate(['rollback'], env);
    expect(refused.code).toBe(1);
    const faked = await ws.migrate(['rollback', '--fake'], env);
    expect(faked.code, faked.stderr).toBe(0);
    expect(faked.stdout).toContain('Un-recorded (without running down()) 1 migration.');
    expect(await db.query(`select name from tributary_migrations where name = '20300101_000002_auth-service_enum'`)).toEqual([]);
    expect(await db.query(`select to_regtype('mood') is not null as kept`)).toEqual([{ kept: true }]); // nothing ran
  });
});

describe('--json on failure', () => {
  it('prints exactly one JSON document on stdout, the password masked', async () => {
    const result = await ws.migrate(['showmigrations', '--json'], { DATABASE_URL: 'postgres://u:s3cretpw@127.0.0.1:1/x' });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({ error: expect.stringContaining('Cannot connect to PostgreSQL 127.0.0.1:1/x') });
    expect(result.stdout + result.stderr).not.toContain('s3cretpw');
  });
});
