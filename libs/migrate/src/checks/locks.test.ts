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
    ['alter table "user" add column "age" int null', 'ACCESS EXCLUSIVE on public.user'],
    ['alter table "user" alter column "age" set default 0', 'ACCESS EXCLUSIVE on public.user'],
    ['create index "user_age_index" on "user" ("age")', 'SHARE on public.user'],
    ['create index concurrently "user_age_index" on "user" ("age")', 'SHARE UPDATE EXCLUSIVE on public.user'],
    ['alter table "session" add constraint "session_user_id_foreign" foreign key ("user_id") references "user" ("id")', 'SHARE ROW EXCLUSIVE on public.session, SHARE ROW EXCLUSIVE on public.user'],
    ['alter table "session" validate constraint "session_user_id_foreign"', 'SHARE UPDATE EXCLUSIVE on public.session'],
    ['alter table "user" add constraint "age_check" check (age > 0)', 'ACCESS EXCLUSIVE on public.user'],
    ['alter table "user" validate constraint "c", add column "x" int', 'ACCESS EXCLUSIVE on public.user'],
    ['create trigger "t" before insert on "user" for each row execute function f()', 'SHARE ROW EXCLUSIVE on public.user'],
    ['drop table "ledger"."entry"', 'ACCESS EXCLUSIVE on ledger.entry'],
    ['truncate "user", "session"', 'ACCESS EXCLUSIVE on public.user, ACCESS EXCLUSIVE on public.session'],
    ['insert into "user" ("email") select "email" from "legacy_user"', 'ROW EXCLUSIVE on public.user, ACCESS SHARE on public.legacy_user'],
    ['update "user" set "age" = 0 where "age" is null', 'ROW EXCLUSIVE on public.user'],
    ['delete from "session" where "expires_at" < now()', 'ROW EXCLUSIVE on public.session'],
    ['drop index "user_email_index"', 'ACCESS EXCLUSIVE on public.user'],
    ['drop index concurrently "user_email_index"', 'SHARE UPDATE EXCLUSIVE on public.user'],
    ['drop index "unknown_index"', 'ACCESS EXCLUSIVE on public.unknown_index (index)'],
    ['lock table "user" in share row exclusive mode', 'SHARE ROW EXCLUSIVE on public.user'],
    ['vacuum full "user"', 'ACCESS EXCLUSIVE on public.user'],
    ['alter table "user" rename column "age" to "years"', 'ACCESS EXCLUSIVE on public.user'],
    ['create table "note" ("id" int primary key, "user_id" int references "user" ("id"))', 'ACCESS EXCLUSIVE on public.note, SHARE ROW EXCLUSIVE on public.user'],
    ['create type "mood" as enum (\'ok\')', 'no table lock'],
  ])('%s → %s', async (sql, expected) => {
    const result = await locks(sql);
    expect(result.locks.map((l) => `${l.mode} on ${l.table}`).join(', ') || 'no table lock').toBe(expected);
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
