/**
 * The gateway in-process on PostgreSQL, as `npm run serve` assembles it: its ORM has its own pool
 * (DB_POOL_MAX) and no global context, and GET /health reads the history on every request but
 * hashes a migration file only when it is new or changed — counted by the library's counter.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../apps/gateway/src/app.ts';
import { openAppDatabase, type AppDatabase } from '../apps/gateway/src/database.ts';
import { migrationHealth } from '../apps/gateway/src/health.ts';
import { services } from '../apps/gateway/src/services.ts';
import { checkMigrationsOnStartup, loadConfig } from '../libs/migrate/src/boot.ts';
import { migrationFilesHashed } from '../libs/migrate/src/stream/stream-cache.ts';
import { workspaceWithDatabase } from './support/fixture.ts';

const { ws, db } = workspaceWithDatabase();
let app: AppDatabase;

beforeAll(async () => {
  const config = loadConfig({ cwd: ws.dir, databaseUrl: db.url });
  app = await openAppDatabase(config, { entities: services.flatMap((s) => s.entities), poolMax: 3 });
});

afterAll(async () => app?.close());

describe('the gateway in-process', () => {
  it('has its own pool size and no global context: a query on the global entity manager is refused', async () => {
    const orm = app.orm as MikroORM;
    expect(orm.config.get('pool')).toMatchObject({ max: 3 });
    expect(orm.config.get('allowGlobalContext')).toBe(false);
    const [auth] = services;
    await expect(app.orm.em.find(auth!.entities[0]!, {})).rejects.toThrow(/global EntityManager instance methods for context specific actions is disallowed/);
  });

  it('GET /health hashes the stream once, not per request; a new file is hashed once when it appears', async () => {
    const config = loadConfig({ cwd: ws.dir, databaseUrl: db.url });
    const boot = await checkMigrationsOnStartup({ db: app.db, cwd: ws.dir, autoMigrate: true, log: () => {} });
    expect(boot.migrated).toHaveLength(3);
    const gateway = await buildGateway({ orm: app.orm, services, health: migrationHealth(app.db, config, boot.modelChanges) });
    try {
      const before = migrationFilesHashed();
      for (let i = 0; i < 25; i++) {
        const response = await gateway.inject({ method: 'GET', url: '/health' });
        expect(response.json()).toMatchObject({ status: 'ok', migrations: { applied: 3, pending: 0 } });
      }
      expect(migrationFilesHashed() - before).toBe(0);

      ws.write('migrations/20991231_235959_catalog-service_later.ts', ws.read(`migrations/${ws.migrations()[2]}`).replace(/class \w+/, 'class Later'));
      for (let i = 0; i < 10; i++) {
        const response = await gateway.inject({ method: 'GET', url: '/health' });
        expect(response.json()).toMatchObject({ status: 'degraded', migrations: { applied: 3, pending: 1 } });
      }
      expect(migrationFilesHashed() - before).toBe(1);
    } finally {
      await gateway.close();
    }
  });
});
