/**
 * A PGlite database opens without MikroORM and creates it on first use over the same instance:
 * values read the same before and after (MikroORM's type parsers on our instance), several
 * statements go in one call until then, and closing closes the instance whether or not the
 * ORM was created.
 */
import { createPostgreSqlTypeParsers } from '@mikro-orm/sql';
import { parse as parseArray } from 'postgres-array';
import { describe, expect, it } from 'vitest';
import { openPglite, ORM_TYPE_PARSERS } from './open-pglite.ts';

const SAMPLES: Record<number, string> = {
  1082: '2026-11-30',
  1114: '2026-11-30 12:00:00.123456',
  1184: '2026-11-30 12:00:00.123456+00',
  1186: '1 day 02:03:04',
  1182: '{2026-11-30,2026-12-01}',
  1115: '{"2026-11-30 12:00:00"}',
  1185: '{"2026-11-30 12:00:00+00",NULL}',
  1187: '{"1 day","00:00:01"}',
};

describe('the embedded database opened without MikroORM', () => {
  it("parses every type MikroORM's own PGlite connection would, the same way", () => {
    const orm = createPostgreSqlTypeParsers((text: string) => parseArray(text));
    expect(Object.keys(ORM_TYPE_PARSERS).sort()).toEqual(Object.keys(orm).sort());
    for (const [oid, text] of Object.entries(SAMPLES)) expect(ORM_TYPE_PARSERS[Number(oid)]!(text), `oid ${oid}`).toEqual((orm as any)[oid](text));
  });

  it('reads the same rows before and after the ORM is created, on one instance', async () => {
    const db = await openPglite('memory://', 'in-memory PGlite', undefined, {});
    const select = `select timestamptz '2026-11-30 12:00:00+00' as "at", array[date '2026-11-30'] as "days", 42::int as "n", 'x' as "s"`;
    try {
      expect(db.ormCreated?.()).toBe(false);
      // Several statements in one call, as pipelined migrations send them.
      await db.session.query(`begin; create table "t" ("id" int); insert into "t" values (1); commit`);
      const before = await db.session.query(select);
      expect(db.ormCreated?.()).toBe(false);
      expect(await db.connection.execute('select "id" from "t"')).toEqual([{ id: 1 }]); // the ORM sees the same database
      expect(db.ormCreated?.()).toBe(true);
      expect(await db.session.query(select)).toEqual(before);
      expect(before).toEqual([{ at: '2026-11-30 12:00:00+00', days: ['2026-11-30'], n: 42, s: 'x' }]);
    } finally {
      await db.close();
    }
  });

  it('closes once, however often it is asked to', async () => {
    const db = await openPglite('memory://', 'in-memory PGlite', undefined, {});
    await db.close();
    await expect(db.close()).resolves.toBeUndefined();
  });

  it('closes the instance, with or without the ORM', async () => {
    for (const useOrm of [false, true]) {
      const db = await openPglite('memory://', 'in-memory PGlite', undefined, {});
      if (useOrm) await db.connection.execute('select 1');
      await db.close();
      await expect(db.session.query('select 1'), `ORM created: ${useOrm}`).rejects.toThrow(/closed/i);
    }
  });
});
