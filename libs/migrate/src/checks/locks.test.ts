import { describe, expect, it } from 'vitest';
import { statementsOf } from './lint.ts';
import { blockedBy, locksOf, type LockContext } from './locks.ts';

const context = (): LockContext => ({ indexes: new Map([['public.user_email_index', 'public.user']]) });

async function locks(sql: string, ctx = context()) {
  const [statement] = await statementsOf(sql);
  return locksOf(statement!.node, ctx);
}

describe('lock levels of parsed statements', () => {
  it.each([
    ['alter table "user" add column "age" int null', [['public.user', 'ACCESS EXCLUSIVE']]],
    ['alter table "user" alter column "age" set default 0', [['public.user', 'ACCESS EXCLUSIVE']]],
    ['create index "user_age_index" on "user" ("age")', [['public.user', 'SHARE']]],
    ['create index concurrently "user_age_index" on "user" ("age")', [['public.user', 'SHARE UPDATE EXCLUSIVE']]],
    ['alter table "session" add constraint "session_user_id_foreign" foreign key ("user_id") references "user" ("id")', [['public.session', 'SHARE ROW EXCLUSIVE'], ['public.user', 'SHARE ROW EXCLUSIVE']]],
    ['alter table "session" validate constraint "session_user_id_foreign"', [['public.session', 'SHARE UPDATE EXCLUSIVE']]],
    ['alter table "user" add constraint "age_check" check (age > 0)', [['public.user', 'ACCESS EXCLUSIVE']]],
    ['alter table "user" validate constraint "c", add column "x" int', [['public.user', 'ACCESS EXCLUSIVE']]],
    ['create trigger "t" before insert on "user" for each row execute function f()', [['public.user', 'SHARE ROW EXCLUSIVE']]],
    ['drop table "ledger"."entry"', [['ledger.entry', 'ACCESS EXCLUSIVE']]],
    ['truncate "user", "session"', [['public.user', 'ACCESS EXCLUSIVE'], ['public.session', 'ACCESS EXCLUSIVE']]],
    ['insert into "user" ("email") select "email" from "legacy_user"', [['public.user', 'ROW EXCLUSIVE'], ['public.legacy_user', 'ACCESS SHARE']]],
    ['update "user" set "age" = 0 where "age" is null', [['public.user', 'ROW EXCLUSIVE']]],
    ['delete from "session" where "expires_at" < now()', [['public.session', 'ROW EXCLUSIVE']]],
    ['drop index "user_email_index"', [['public.user', 'ACCESS EXCLUSIVE']]],
    ['drop index concurrently "user_email_index"', [['public.user', 'SHARE UPDATE EXCLUSIVE']]],
    ['drop index "unknown_index"', [['public.unknown_index (index)', 'ACCESS EXCLUSIVE']]],
    ['lock table "user" in share row exclusive mode', [['public.user', 'SHARE ROW EXCLUSIVE']]],
    ['vacuum full "user"', [['public.user', 'ACCESS EXCLUSIVE']]],
    ['alter table "user" rename column "age" to "years"', [['public.user', 'ACCESS EXCLUSIVE']]],
    ['create table "note" ("id" int primary key, "user_id" int references "user" ("id"))', [['public.note', 'ACCESS EXCLUSIVE'], ['public.user', 'SHARE ROW EXCLUSIVE']]],
    ['create type "mood" as enum (\'ok\')', []],
  ])('%s', async (sql, expected) => {
    const result = await locks(sql);
    expect(result.locks.map((l) => [l.table, l.mode])).toEqual(expected);
    expect(result.note).toBeUndefined();
  });

  it('keys the table by statement kind, and says when a kind is not in it', async () => {
    expect((await locks('alter table "user" add column "age" int')).kind).toBe('AlterTableStmt');
    expect(await locks(`do $$ begin perform 1; end $$`)).toEqual({ kind: 'DoStmt', locks: [], note: 'runs procedural code (DO): its locks are not known before it runs' });
    expect((await locks('checkpoint')).note).toBe('CheckPointStmt is not in the lock table');
  });

  it('learns the indexes a statement creates, for a later drop in the same run', async () => {
    const ctx = context();
    await locks('create index "session_user_index" on "session" ("user_id")', ctx);
    expect((await locks('drop index "session_user_index"', ctx)).locks).toEqual([{ table: 'public.session', mode: 'ACCESS EXCLUSIVE' }]);
  });

  it('says what application traffic each mode blocks', () => {
    expect(blockedBy('ACCESS EXCLUSIVE')).toBe('reads and writes');
    expect(blockedBy('SHARE')).toBe('writes');
    expect(blockedBy('SHARE ROW EXCLUSIVE')).toBe('writes');
    expect(blockedBy('SHARE UPDATE EXCLUSIVE')).toBe('nothing');
    expect(blockedBy('ROW EXCLUSIVE')).toBe('nothing');
  });
});
