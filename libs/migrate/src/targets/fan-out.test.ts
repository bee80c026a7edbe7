import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.ts';
import { loadConfig } from '../config/config.ts';
import type { StreamEntry } from '../stream/stream.ts';
import { runBounded } from './fan-out.ts';
import { probeTarget, streamHead } from './probe.ts';

describe('runBounded', () => {
  it('keeps exactly `concurrency` items in flight, and starts none once told to stop', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    await runBounded([...Array(20).keys()], 4, async (i) => {
      seen.push(i);
      peak = Math.max(peak, ++running);
      await sleep(5);
      running--;
    }, () => seen.length < 10);
    expect(peak).toBe(4);
    expect(seen).toEqual([...Array(10).keys()]);
  });
});

describe('probeTarget: one query says whether a target is at the head', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  // Names whose byte order differs from a linguistic collation's ("_" vs letters).
  const stream: StreamEntry[] = ['20260101_000000_a_x', '20260101_000000_a-b_y', '20260101_000000_ab_z'].sort().map((name, i) => ({ name, service: 'a', file: '', checksum: String(i).repeat(64) }));

  it('reads the count, newest name and digest of the applied rows only, in byte order', async () => {
    const config = loadConfig({ databaseUrl: db.url });
    expect(await probeTarget(db.url, config, streamHead(stream))).toEqual({ atHead: false, applied: 0, last: null }); // no history table
    // A linguistic collation on "name" (ICU root: "_" before "-"), as a server with one by default would have.
    await db.query(`create table tributary_migrations ("id" serial, "name" text collate "und-x-icu", "checksum" char(64), "status" text)`);
    const insert = (e: StreamEntry, status = 'applied') => db.query(`insert into tributary_migrations ("name", "checksum", "status") values ($1, $2, $3)`, [e.name, e.checksum, status]);
    for (const e of [...stream].reverse()) await insert(e);
    expect(await probeTarget(db.url, config, streamHead(stream))).toEqual({ atHead: true, applied: 3, last: stream[2]!.name });
    // an edited file (other checksum), a failed row, a migration the stream lacks: each is "not at head"
    expect((await probeTarget(db.url, config, streamHead([...stream.slice(0, 2), { ...stream[2]!, checksum: 'f'.repeat(64) }]))).atHead).toBe(false);
    expect((await probeTarget(db.url, config, streamHead(stream.slice(0, 2)))).atHead).toBe(false);
    await insert({ ...stream[0]!, name: '20260102_000000_a_failed' }, 'failed');
    expect((await probeTarget(db.url, config, streamHead(stream))).atHead).toBe(false);
  });
});
