import { resolve } from 'node:path';
import { Migration } from '@mikro-orm/migrations';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.ts';
import type { MigrationClass, MigrationDefinition } from '../stream/migration-file.ts';
import { loadMigration } from '../stream/migration-file.ts';
import { readStream } from '../stream/stream.ts';
import { lintMigrations, narrows } from './lint.ts';

const ROOT = '/ws';
let counter = 0;

/** A migration definition whose up() adds `up` (and down() adds `down`), without a file. */
function definition(up: string[], options: { down?: string[]; allow?: MigrationClass['allow']; transactional?: boolean } = {}): MigrationDefinition {
  const n = String(++counter).padStart(6, '0');
  const name = `20300101_${n}_auth-service_m${n}`;
  class M extends Migration {
    static allow = options.allow;
    override async up(): Promise<void> {
      for (const sql of up) this.addSql(sql);
    }
    override async down(): Promise<void> {
      for (const sql of options.down ?? []) this.addSql(sql);
    }
  }
  return {
    entry: { name, service: 'auth-service', file: `${ROOT}/migrations/${name}.ts`, checksum: '' },
    migrationClass: M as MigrationClass,
    dependsOn: [],
    transactional: options.transactional ?? true,
    irreversible: false,
    lockTimeout: undefined,
    statementTimeout: undefined,
  };
}

async function rulesOf(...sql: string[]): Promise<string[]> {
  const report = await lintMigrations([definition(sql)], ROOT);
  return report.findings.map((f) => `${f.rule}:${f.severity}`);
}

describe('lint rules on existing tables', () => {
  it('flags destructive changes as errors', async () => {
    expect(await rulesOf('drop table "user"')).toEqual(['drop-table:error']);
    expect(await rulesOf('alter table "user" drop column "email"')).toEqual(['drop-column:error']);
    expect(await rulesOf('drop table if exists "a", "b" cascade')).toEqual(['drop-table:error', 'drop-table:error']);
  });

  it('flags locking changes as warnings', async () => {
    expect(await rulesOf('create index "user_email_index" on "user" ("email")')).toEqual(['index-not-concurrently:warning']);
    expect(await rulesOf('alter table "user" add constraint "user_email_unique" unique ("email")')).toEqual(['index-not-concurrently:warning']);
    expect(await rulesOf('alter table "user" add column "age" int not null')).toEqual(['not-null-without-default:warning']);
    expect(await rulesOf('alter table "user" alter column "age" set not null')).toEqual(['not-null-without-default:warning']);
    expect(await rulesOf('alter table "user" rename column "email" to "mail"')).toEqual(['rename-column:warning']);
    expect(await rulesOf('alter table "user" rename to "account"')).toEqual(['rename-table:warning']);
    expect(await rulesOf('alter table "session" add constraint "session_user_fk" foreign key ("user_id") references "user" ("id")')).toEqual(['foreign-key-not-valid:warning']);
  });

  it('warns when a default the app may rely on is dropped', async () => {
    expect(await rulesOf('alter table "customer" alter column "currency" drop default')).toEqual(['drop-default:warning']);
    expect(await rulesOf('alter table "customer" alter column "currency" set default \'USD\'')).toEqual([]);
    expect(await rulesOf('create table "a" ("id" int default 0)', 'alter table "a" alter column "id" drop default')).toEqual([]); // a table of this set has no rows yet
  });

  it('leaves the safe forms alone', async () => {
    const concurrently = await lintMigrations([definition(['create index concurrently "user_email_index" on "user" ("email")'], { transactional: false })], ROOT);
    expect(concurrently.findings).toEqual([]);
    expect(
      await rulesOf(
        'alter table "user" add column "age" int not null default 0',
        'alter table "user" add column "nickname" text null',
        'alter table "session" add constraint "session_user_fk" foreign key ("user_id") references "user" ("id") not valid',
        'alter table "session" validate constraint "session_user_fk"',
        'alter table "user" alter column "display_name" type varchar(200)',
      ),
    ).toEqual(['change-type:warning']); // only the type change whose old type is unknown
  });

  it('refuses transaction control and CONCURRENTLY inside a transactional migration', async () => {
    expect(await rulesOf('create table "a" ("id" int)', 'commit', 'begin')).toEqual(['transaction-control:error', 'transaction-control:error']);
    expect(await rulesOf('rollback')).toEqual(['transaction-control:error']);
    expect(await rulesOf('savepoint s1', 'rollback to savepoint s1', 'release savepoint s1')).toEqual([]);
    expect(await rulesOf('create index concurrently "i" on "user" ("email")')).toEqual(['concurrently-in-transaction:error']);
    expect(await rulesOf('drop index concurrently "i"')).toEqual(['concurrently-in-transaction:error']);
  });

  it('gives each finding its message, statement, file and the safe way', async () => {
    const report = await lintMigrations([definition(['alter table "user"   drop column "email";'])], ROOT);
    expect(report.findings[0]).toMatchObject({
      rule: 'drop-column',
      severity: 'error',
      file: expect.stringMatching(/^migrations\/20300101_\d{6}_auth-service_m\d+\.ts$/),
      statement: 'alter table "user" drop column "email"',
      message: 'Drops column "user"."email" and its data.',
      safely: expect.stringContaining('deploy code that no longer reads or writes the column first'),
    });
    expect(report).toMatchObject({ ok: false, errors: 1, warnings: 0, allowed: 0 });
  });
});

describe('tables created in the linted set are not "existing"', () => {
  it('allows anything on a table an earlier migration of the set created', async () => {
    const create = definition(['create table "review" ("id" serial primary key, "body" varchar(200) not null, "user_id" int not null)']);
    const change = definition([
      'create index "review_user_index" on "review" ("user_id")',
      'alter table "review" add constraint "review_user_fk" foreign key ("user_id") references "user" ("id")',
      'alter table "review" add column "stars" int not null',
      'alter table "review" rename column "body" to "text"',
      'alter table "review" drop column "stars"',
      'drop table "review"',
    ]);
    const report = await lintMigrations([create, change], ROOT);
    expect(report.findings).toEqual([]);
    expect(report.migrations).toEqual([create.entry.name, change.entry.name]);
  });
});

describe('type changes', () => {
  it('knows the old type from the set, or from down(), and flags only narrowing', async () => {
    const create = definition(['create table "t" ("name" varchar(200), "n" bigint, "price" numeric(10,2))']);
    const narrow = definition(['alter table "t" alter column "name" type varchar(100)', 'alter table "t" alter column "n" type int']);
    const widen = definition(['alter table "t" alter column "price" type numeric(12,2)', 'alter table "t" alter column "name" type text']);
    const report = await lintMigrations([create, narrow, widen], ROOT);
    expect(report.findings.map((f) => f.message)).toEqual([
      'Changes "t"."name" from varchar(200) to varchar(100), which can truncate or reject existing values.',
      'Changes "t"."n" from int8 to int4, which can truncate or reject existing values.',
    ]);

    const fromDown = definition(['alter table "user" alter column "display_name" type varchar(50)'], { down: ['alter table "user" alter column "display_name" type varchar(120)'] });
    expect((await lintMigrations([fromDown], ROOT)).findings.map((f) => f.rule)).toEqual(['narrow-type']);
  });

  it('narrows() follows PostgreSQL conversions', () => {
    const t = (name: string, ...mods: number[]) => ({ name, mods, array: false });
    expect(narrows(t('varchar', 10), t('text'))).toBe(false);
    expect(narrows(t('text'), t('varchar', 10))).toBe(true);
    expect(narrows(t('int4'), t('int8'))).toBe(false);
    expect(narrows(t('int8'), t('int2'))).toBe(true);
    expect(narrows(t('numeric', 10, 2), t('numeric', 10, 4))).toBe(true);
    expect(narrows(t('float8'), t('float4'))).toBe(true);
    expect(narrows(t('text'), t('int4'))).toBe(true);
  });
});

describe('acknowledging findings', () => {
  it('static allow with a reason marks the finding allowed and the report ok', async () => {
    const report = await lintMigrations([definition(['alter table "user" drop column "legacy"'], { allow: [{ rule: 'drop-column', reason: 'unused since v3' }] })], ROOT);
    expect(report.findings[0]).toMatchObject({ rule: 'drop-column', allowed: { reason: 'unused since v3' } });
    expect(report).toMatchObject({ ok: true, errors: 0, allowed: 1 });
    const bare = await lintMigrations([definition(['drop table "legacy"'], { allow: ['drop-table'] })], ROOT);
    expect(bare.findings[0]!.allowed).toEqual({ reason: null });
  });

  it('an unknown rule id in static allow is a mistake named with its file', async () => {
    const bad = definition(['select 1'], { allow: ['drop-everything'] });
    await expect(lintMigrations([bad], ROOT)).rejects.toThrow(TributaryError);
    await expect(lintMigrations([bad], ROOT)).rejects.toThrow(/Migration migrations\/20300101_\d+_auth-service_m\d+\.ts: static allow names an unknown lint rule "drop-everything"/);
  });

  it('--strict makes warnings fail', async () => {
    const sql = ['create index "user_email_index" on "user" ("email")'];
    expect((await lintMigrations([definition(sql)], ROOT)).ok).toBe(true);
    expect((await lintMigrations([definition(sql)], ROOT, { strict: true })).ok).toBe(false);
  });
});

describe('parsing', () => {
  it('reports SQL PostgreSQL would reject as a syntax-error finding', async () => {
    const report = await lintMigrations([definition(['alter tabel "user" add column "x" int'])], ROOT);
    expect(report.findings).toMatchObject([{ rule: 'syntax-error', severity: 'error', message: expect.stringContaining('syntax error at or near "tabel"') }]);
  });

  it('finds nothing to flag in the committed example stream', async () => {
    const root = resolve(import.meta.dirname, '../../../..');
    const stream = readStream(resolve(root, 'migrations'));
    const definitions = await Promise.all(stream.map((entry) => loadMigration(entry, root)));
    const report = await lintMigrations(definitions, root, { strict: true });
    expect(report.migrations.length).toBeGreaterThanOrEqual(3);
    expect(report.findings).toEqual([]);
  });
});

describe('migrations lint cannot read', () => {
  it('a migration whose up() needs a database is reported, not skipped silently', async () => {
    const needsDb = definition([]);
    needsDb.migrationClass.prototype.up = async function (this: Migration) {
      throw new Error('connect ECONNREFUSED');
    };
    const report = await lintMigrations([needsDb], ROOT);
    expect(report.findings).toMatchObject([{ rule: 'unlintable', severity: 'warning', message: 'up() could not run without a database (connect ECONNREFUSED), so its SQL was not linted.' }]);
  });
});

describe('migrations no lint error can come from, whatever runs before them', () => {
  it('are those whose every statement parses and none drops, changes a type or controls the transaction', async () => {
    const safe = definition(['create table "t" ("id" int)', 'alter table "t" add column "note" text null', 'create index "t_note" on "t" ("note")']);
    const createThenDrop = definition(['create table "tmp" ("id" int)', 'drop table "tmp"']); // fine in itself…
    const dropsColumnOfNew = definition(['alter table "t" drop column "note"']); // no finding here: "t" is new in this set
    const changesType = definition(['alter table "t" alter column "id" type bigint']); // widening, but a narrowing depends on what ran before
    const broken = definition(['creat table "x" ("id" int)']);
    const commits = definition(['commit']);
    const concurrently = definition(['create index concurrently "t_id" on "t" ("id")'], { transactional: false });
    const all = [safe, createThenDrop, dropsColumnOfNew, changesType, broken, commits, concurrently];
    const report = await lintMigrations(all, ROOT);
    expect(report.findings.filter((f) => f.migration === dropsColumnOfNew.entry.name)).toEqual([]);
    expect(report.harmless).toEqual([safe.entry.name, createThenDrop.entry.name, concurrently.entry.name]);
  });
});
