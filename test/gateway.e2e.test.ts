/**
 * The unified app on PostgreSQL, as production runs it (`npm run serve`): the boot check warns,
 * refuses to start in strict mode, or applies pending migrations under the lock (several
 * replicas at once); `/health` reports the migration status; the routes read and write through
 * MikroORM; SIGTERM closes it cleanly.
 */
import { symlinkSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/database.ts';
import { workspaceWithDatabase } from './support/fixture.ts';
import { exited, gatewayStarter, listening, post, request, stop } from './support/gateway.ts';

const { ws, db, env } = workspaceWithDatabase();
const serve = gatewayStarter(ws, env);
let stream: string[];

beforeAll(() => {
  stream = ws.migrations().map((f) => f.replace(/\.ts$/, ''));
  expect(stream).toHaveLength(3);
});

const appliedNames = async () => (await db.query<{ name: string }>('select name from tributary_migrations order by id')).map((r) => r.name);

describe('the gateway on PostgreSQL', () => {
  it('refuses a bad PORT or flag with one sentence naming the variable', async () => {
    const badPort = await exited(serve({ PORT: 'eighty' }));
    expect(badPort.code).toBe(1);
    expect(badPort.stderr.trim()).toBe('error: PORT must be a port number from 0 to 65535 (0 picks a free one), not "eighty".');
    const badFlag = await exited(serve({ MIGRATIONS_STRICT: 'maybe' }));
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toContain('error: MIGRATIONS_STRICT must be true or false, not "maybe".');
  });

  it('says so in one sentence when its port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = await exited(serve({ PORT: String(port), HOST: '127.0.0.1' }));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`error: Port ${port} on 127.0.0.1 is already in use: stop what listens there, or set PORT to another port (0 picks a free one).`);
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      taken.close();
    }
  });

  it('warns by default, naming each pending migration, and /health says degraded', async () => {
    const gateway = serve();
    const url = await listening(gateway);
    const { stderr } = gateway.output();
    for (const name of stream) expect(stderr).toContain(`Migration ${name} is pending on PostgreSQL`);
    expect(await request(`${url}/health`)).toEqual({ status: 200, body: { status: 'degraded', migrations: { applied: 0, pending: 3, head: null } } });
    const result = await stop(gateway);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('SIGTERM: closing the server and the database');
  });

  it('strict mode refuses to start with exit code 1 and one clear message', async () => {
    const result = await exited(serve({ MIGRATIONS_STRICT: 'true' }));
    expect(result.code).toBe(1);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('Strict startup check failed for PostgreSQL');
    expect(errors[0]).toContain(`3 pending migrations (${stream.join(', ')})`);
    expect(result.stdout).not.toContain('listening');
    expect(await db.query(`select to_regclass('tributary_migrations') as t`)).toEqual([{ t: null }]);
  });

  it('AUTO_MIGRATE on three replicas at once applies each migration exactly once, then all serve', async () => {
    const replicas = [serve({ AUTO_MIGRATE: 'true' }), serve({ AUTO_MIGRATE: 'true' }), serve({ AUTO_MIGRATE: 'true' })];
    const urls = await Promise.all(replicas.map(listening));
    expect(await appliedNames()).toEqual(stream);
    const appliedBy = replicas.map((r) => r.output().stderr.match(/Applied (\d+) pending migration/)?.[1] ?? '0');
    expect(appliedBy.map(Number).reduce((a, b) => a + b, 0)).toBe(3);
    for (const url of urls) {
      expect(await request(`${url}/health`)).toEqual({ status: 200, body: { status: 'ok', migrations: { applied: 3, pending: 0, head: stream[2] } } });
    }
    for (const replica of replicas) expect((await stop(replica)).code).toBe(0);
  });

  it("serves each service's routes, reading and writing its tables through MikroORM", async () => {
    const gateway = serve();
    const url = await listening(gateway);
    expect(gateway.output().stderr).not.toContain('⚠');
    const user = await post(`${url}/auth/users`, { email: 'Ada@Example.com', displayName: 'Ada' });
    expect(user).toMatchObject({ status: 201, body: { email: 'ada@example.com', role: 'member' } });
    expect((await post(`${url}/auth/users`, { email: 'ada@example.com', displayName: 'Ada again' })).status).toBe(409);
    expect((await post(`${url}/auth/users`, { email: 'x@example.com' })).status).toBe(400);
    expect((await request(`${url}/auth/users/${user.body.id}`)).body.displayName).toBe('Ada');
    expect((await request(`${url}/auth/users/999999`)).status).toBe(404);

    const customer = await post(`${url}/billing/customers`, { userId: user.body.id, legalName: 'Ada Ltd' });
    expect(customer).toMatchObject({ status: 201, body: { legalName: 'Ada Ltd', currency: 'EUR' } });
    const invoice = await post(`${url}/billing/invoices`, {
      customerId: customer.body.id,
      number: 'INV-1',
      lines: [{ description: 'Analytical engine', quantity: 3, unitPrice: '0.10' }, { description: 'Punch cards', quantity: 1, unitPrice: '2.50' }],
    });
    expect(invoice).toMatchObject({ status: 201, body: { total: '2.80' } });
    expect((await request(`${url}/billing/invoices/${invoice.body.id}`)).body.lines).toHaveLength(2);

    expect((await post(`${url}/catalog/categories`, { slug: 'books', name: 'Books' })).status).toBe(201);
    expect((await post(`${url}/catalog/products`, { sku: 'B-1', name: 'Notes', categorySlug: 'books', price: '9.99', tags: ['new'] })).status).toBe(201);
    expect((await request(`${url}/catalog/products?category=books`)).body.map((p: any) => p.sku)).toEqual(['B-1']);

    expect(await db.query('select number, total from invoice')).toEqual([{ number: 'INV-1', total: '2.80' }]);
    expect(await db.query('select count(*)::int as n from invoice_line')).toEqual([{ n: 2 }]);
    expect((await stop(gateway)).code).toBe(0);
  });

  it('names the service whose models changed without a migration: warns, /health degraded, strict refuses', async () => {
    const file = 'apps/auth-service/src/db/models/user.ts';
    const original = ws.read(file);
    ws.edit(file, 'displayName: p.string().length(120),', 'displayName: p.string().length(120),\n    nickname: p.string().length(40).nullable(),');
    try {
      const gateway = serve();
      const url = await listening(gateway);
      expect(gateway.output().stderr).toContain('Service auth-service has model changes without a migration');
      expect(gateway.output().stderr).not.toMatch(/billing-service has model changes|catalog-service has model changes/);
      expect(await request(`${url}/health`)).toEqual({ status: 200, body: { status: 'degraded', migrations: { applied: 3, pending: 0, head: stream[2] } } });
      await stop(gateway);

      const strict = await exited(serve({ MIGRATIONS_STRICT: 'true' }));
      expect(strict.code).toBe(1);
      expect(strict.stderr).toMatch(/^error: Strict startup check failed .*model changes without a migration in auth-service/m);
    } finally {
      ws.write(file, original);
    }
  });

  it('reports an applied migration edited since, and AUTO_MIGRATE will not start on it', async () => {
    const file = `migrations/${stream[1]}.ts`;
    const original = ws.read(file);
    ws.write(file, `${original}// edited after being applied\n`);
    try {
      const gateway = serve();
      const url = await listening(gateway);
      expect(gateway.output().stderr).toContain(`Migration ${file} was edited after it was applied (checksum mismatch)`);
      expect((await request(`${url}/health`)).body.status).toBe('degraded');
      await stop(gateway);

      const auto = await exited(serve({ AUTO_MIGRATE: 'true' }));
      expect(auto.code).toBe(1);
      expect(auto.stderr).toContain(`error: Migration ${file} was edited after it was applied`);
    } finally {
      ws.write(file, original);
    }
  });

  it('AUTO_MIGRATE applies a migration pulled since the last deploy, then serves it', async () => {
    ws.edit('apps/catalog-service/src/db/models/product.ts', 'active: p.boolean().default(true),', 'active: p.boolean().default(true),\n    weightGrams: p.integer().nullable(),');
    const made = await ws.migrate(['makemigrations', '-m', 'add weight'], env);
    expect(made.code).toBe(0);
    const [added] = ws.migrations().filter((f) => !stream.includes(f.replace(/\.ts$/, '')));
    const name = added!.replace(/\.ts$/, '');

    const warn = serve();
    await listening(warn);
    expect(warn.output().stderr).toContain(`Migration ${name} is pending`);
    await stop(warn);

    const gateway = serve({ AUTO_MIGRATE: 'true' });
    const url = await listening(gateway);
    expect(gateway.output().stderr).toContain(`Applied 1 pending migration: ${name}.`);
    expect(await request(`${url}/health`)).toEqual({ status: 200, body: { status: 'ok', migrations: { applied: 4, pending: 0, head: name } } });
    expect(await db.query(`select column_name from information_schema.columns where table_name = 'product' and column_name = 'weight_grams'`)).toHaveLength(1);
    await stop(gateway);
  });

  it('mounts a service added by `nx g @tributary/migrate:service` and migrates it at boot', async () => {
    const generated = await ws.nx(['g', '@tributary/migrate:service', 'orders-service'], env);
    expect(generated.code).toBe(0);
    // before `npm install` links the new package: one sentence, no stack trace
    const early = await exited(serve());
    expect(early.code).toBe(1);
    expect(early.stderr.trim()).toBe('error: the gateway imports @tributary/orders-service, which is not installed in node_modules yet (a service added since the last install): run `npm install`, then start again.');
    symlinkSync(ws.path('apps/orders-service'), ws.path('node_modules/@tributary/orders-service')); // what `npm install` does
    expect((await ws.migrate(['makemigrations', '--service', 'orders-service', '-m', 'create order'], env)).code).toBe(0);

    const gateway = serve({ AUTO_MIGRATE: 'true' });
    const url = await listening(gateway);
    expect(gateway.output().stderr).toMatch(/Applied \d+ pending migrations?: .*\d{8}_\d{6}_orders-service_create_order\./);
    expect(await request(`${url}/orders/`)).toEqual({ status: 200, body: [] });
    expect((await request(`${url}/health`)).body).toMatchObject({ status: 'ok', migrations: { pending: 0 } });
    await stop(gateway);
  });

  it('answers /health with 503 when the database is gone, and still stops cleanly', async () => {
    const doomed = await createTestDatabase();
    try {
      const gateway = serve({ DATABASE_URL: doomed.url, AUTO_MIGRATE: 'true' });
      const url = await listening(gateway);
      expect((await request(`${url}/health`)).status).toBe(200);
      await doomed.drop(); // terminates the gateway's connections too
      const health = await request(`${url}/health`);
      expect(health.status).toBe(503);
      expect(health.body.status).toBe('unavailable');
      const result = await stop(gateway);
      expect(result.code).toBe(0);
    } finally {
      await doomed.drop();
    }
  });
});
