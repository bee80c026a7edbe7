/**
 * Another session holding an ACCESS EXCLUSIVE lock on table "busy", as a long application
 * transaction would: for tests of lock timeouts and `--lock-retries`.
 */
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { TestDatabase } from './database.ts';
import { startMigrate } from './process.ts';
import type { RunResult, Workspace } from './workspace.ts';

export interface BusyTable {
  /** Takes the lock (in an open transaction); `release` ends it. */
  hold(): Promise<void>;
  release(): Promise<void>;
  /** `migrate --lock-timeout 200ms --lock-retries 3` while the lock is held, released once the first retry is announced. */
  migrateThroughOneRetry(ws: Workspace, env: Record<string, string>): Promise<RunResult>;
}

export function busyTable(db: TestDatabase): BusyTable {
  let holder: pg.Client;
  beforeAll(async () => {
    holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await db.query(`create table "busy" ("id" int)`);
  });
  afterAll(async () => holder?.end());
  const busy: BusyTable = {
    hold: async () => {
      await holder.query('begin');
      await holder.query('lock table "busy" in access exclusive mode');
    },
    release: async () => {
      await holder.query('rollback');
    },
    migrateThroughOneRetry: async (ws, env) => {
      await busy.hold();
      const run = startMigrate(ws, ['migrate', '--lock-timeout', '200ms', '--lock-retries', '3'], env);
      try {
        await run.waitFor('retry 1');
      } finally {
        await busy.release();
      }
      return run.exited;
    },
  };
  return busy;
}
