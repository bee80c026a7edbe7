/**
 * Builds the gateway's HTTP app: mounts every registered service's routes under its prefix with
 * the shared ORM, answers `/health` with the migration status, and turns ORM errors into HTTP
 * status codes. Opening the database and listening are server.ts's job.
 */
import { ForeignKeyConstraintViolationException, NotFoundError, UniqueConstraintViolationException, type MikroORM } from '@mikro-orm/core';
import Fastify, { type FastifyInstance } from 'fastify';
import type { MigrationCounts } from '@tributary/migrate/boot';
import type { GatewayService } from './services.ts';

export interface Health {
  status: 'ok' | 'degraded';
  migrations: MigrationCounts;
}

export interface GatewayOptions {
  orm: MikroORM;
  services: GatewayService[];
  /** Reads the migration status; called on every `/health` request. */
  health: () => Promise<Health>;
  /** Renders the read-only `/migrations` page; without it the route does not exist. */
  migrationsPage?: () => Promise<string>;
}

export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    if (error instanceof NotFoundError) return reply.code(404).send({ error: error.message });
    if (error instanceof UniqueConstraintViolationException) return reply.code(409).send({ error: 'Already exists (unique constraint).' });
    if (error instanceof ForeignKeyConstraintViolationException) return reply.code(409).send({ error: 'Refers to a row that does not exist, or is still referenced.' });
    if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send({ error: error.message });
    console.error(`${request.method} ${request.url} failed:`, error);
    return reply.code(500).send({ error: 'Internal server error.' });
  });

  app.get('/health', async (_request, reply) => {
    try {
      return await options.health();
    } catch (error) {
      // The database is unreachable: not a state a load balancer should route traffic to.
      return reply.code(503).send({ status: 'unavailable', error: (error as Error).message });
    }
  });

  const page = options.migrationsPage;
  if (page) app.get('/migrations', async (_request, reply) => reply.type('text/html; charset=utf-8').send(await page()));

  for (const service of options.services) {
    await app.register(service.routes, { prefix: service.prefix, orm: options.orm });
  }
  return app;
}
