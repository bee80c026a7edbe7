/**
 * The gateway owns its connection: its ORM's pool holds at most DB_POOL_MAX connections (the boot
 * check borrows one and gives it back; nothing else stays open), a bad DB_POOL_MAX is one
 * sentence, and /health follows the stream on disk — a migration that appears is pending at once,
 * applied once `migrate` ran, and an applied file edited in place is reported.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { workspaceWithDatabase } from './support/fixture.ts';
import { exited, gatewayStarter, listening, post, request, stop } from './support/gateway.ts';

const { ws, db, env } = workspaceWithDatabase();
const serve = gatewayStarter(ws, env);
let stream: string[];

beforeAll(() => {
  stream = ws.migrations().map((f) => f.replace(/\.ts$/, ''));
});

/** Sessions on the test database other than the test's own. */
const sessions = async () => (await db.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()'))[0]!.n;

/** A one-statement catalog-service migration named after `stream`'s last one. */
function newMigration(slug: string, sql: string): string {
  const name = `20991231_235959_catalog-service_${slug}`;
  ws.write(
    `migrations/${name}.ts`,
    `import { Migration } from '@mikro-orm/migrations';

export class AddedLater extends Migration {
  static service = 'catalog-service';

  override async up(): Promise<void> {
    this.addSql(\`${sql}\`);
  }

  override async down(): Promise<void> {
    this.addSql(\`comment on table "product" is null\`);
  }
}
`,
  );
  return name;
}

describe('the gateway owns its connection', () => {
  it('a bad DB_POOL_MAX is one sentence naming it', async () => {
    for (const value of ['lots', '0']) {
      const result = await exited(serve({ DB_POOL_MAX: value }));
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(`error: DB_POOL_MAX must be a whole number of connections of at least 1, not "${value}".`);
    }
  });

  it('holds at most DB_POOL_MAX connections, under a burst of requests too', async () => {
    const gateway = serve({ DB_POOL_MAX: '2', AUTO_MIGRATE: 'true' });
    const url = await listening(gateway);
    let most = await sessions();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, await sessions());
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const burst = await Promise.all(Array.from({ length: 60 }, (_, i) => post(`${url}/auth/users`, { email: `user${i}@example.com`, displayName: `User ${i}` })));
    sampling = false;
    await sampler;
    expect(burst.map((r) => r.status)).toEqual(Array(60).fill(201));
    expect(most).toBeGreaterThanOrEqual(1);
    expect(most).toBeLessThanOrEqual(2);
    expect((await stop(gateway)).code).toBe(0);
  });

  it('/health follows the stream on disk: a new migration is pending at once, applied after migrate; an applied file edited in place is reported', async () => {
    const gateway = serve({ AUTO_MIGRATE: 'true' });
    const url = await listening(gateway);
    expect(await request(`${url}/health`)).toEqual({ status: 200, body: { status: 'ok', migrations: { applied: 3, pending: 0, head: stream[2] } } });

    const name = newMigration('comment_product', `comment on table "product" is 'what the catalog sells'`);
    try {
      expect(await request(`${url}/health`)).toEqual({ status: 200, body: { status: 'degraded', migrations: { applied: 3, pending: 1, head: stream[2] } } });
      const migrated = await ws.migrate(['migrate'], env);
      expect(migrated.code, migrated.stderr).toBe(0);
      expect(await request(`${url}/health`)).toEqual({ status: 200, body: { status: 'ok', migrations: { applied: 4, pending: 0, head: name } } });

      // The same size, written in place: still seen (what a stale cache would miss).
      const file = `migrations/${name}.ts`;
      const original = ws.read(file);
      ws.write(file, original.replace('what the catalog sells', 'what the catalog SELLS'));
      expect((await request(`${url}/health`)).body.status).toBe('degraded');
      ws.write(file, original);
      expect((await request(`${url}/health`)).body.status).toBe('ok');
    } finally {
      expect((await stop(gateway)).code).toBe(0);
    }
  });
});
