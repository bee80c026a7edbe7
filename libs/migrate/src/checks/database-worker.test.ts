/**
 * `check`'s database part gives the same answer in a worker thread as in-process: problems
 * (pending, edited after being applied, drift) and notes alike, and the same error, of the same
 * kind, when the database cannot be reached.
 */
import { describe, expect, it } from 'vitest';
import { workspaceWithDatabase } from '../../../../test/support/fixture.ts';
import { migrationSource as migration } from '../../../../test/support/migrations.ts';
import { loadConfig } from '../config/config.ts';
import { TributaryError } from '../errors.ts';
import { databasePart, databasePartInWorker } from './database-worker.ts';

const { ws, db } = workspaceWithDatabase({ migrated: true });

describe("check's database part in a worker thread", () => {
  it('finds what it finds in-process', async () => {
    await db.query(`alter table "customer" add column "nickname" text`);
    ws.write('migrations/20300101_000001_catalog-service_add_weight.ts', migration(['alter table "product" add column "weight" int null'], { service: 'catalog-service' }));
    const [applied] = ws.migrations();
    ws.write(`migrations/${applied}`, `${ws.read(`migrations/${applied}`)}\n// edited after being applied\n`);
    const config = loadConfig({ cwd: ws.dir, databaseUrl: db.url });

    const inWorker = await databasePartInWorker(config, {});
    const inProcess = await databasePart(config, {});
    expect(inWorker).toEqual(inProcess);
    expect(inWorker.problems.map((p) => p.kind).sort()).toEqual(['checksum-mismatch', 'drift', 'pending']);
    const scoped = { services: ['auth-service'], onNote: () => {} };
    expect(await databasePartInWorker(config, scoped)).toEqual(await databasePart(config, scoped));
  });

  it('fails as it fails in-process', async () => {
    const config = loadConfig({ cwd: ws.dir, databaseUrl: 'postgres://postgres@127.0.0.1:1/nowhere' });
    const inProcess = await databasePart(config, {}).catch((error) => error);
    const inWorker = await databasePartInWorker(config, {}).catch((error) => error);
    expect(inProcess).toBeInstanceOf(TributaryError);
    expect(inWorker).toBeInstanceOf(TributaryError);
    expect(inWorker.message).toBe(inProcess.message);
  });
});
