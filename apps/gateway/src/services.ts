/**
 * The gateway's service registry: every service whose routes the unified app mounts, one import
 * and one array entry each. `nx g @tributary/migrate:service <name>` appends both; keep the
 * `import { service as … } from '@tributary/<name>/routes';` lines and the one-entry-per-line
 * array so that it can.
 */
import type { MikroORM } from '@mikro-orm/core';
import type { EntitySchema } from '@mikro-orm/core';
import type { FastifyPluginAsync } from 'fastify';
import { service as authService } from '@tributary/auth-service/routes';
import { service as billingService } from '@tributary/billing-service/routes';
import { service as catalogService } from '@tributary/catalog-service/routes';

/** What a service's `src/routes.ts` exports as `service`. */
export interface GatewayService {
  /** The Nx project name. */
  name: string;
  /** URL prefix its routes are mounted under, e.g. `/auth`. */
  prefix: string;
  /** Its entities, registered with the gateway's one ORM. */
  entities: EntitySchema<any, any>[];
  routes: FastifyPluginAsync<{ orm: MikroORM }>;
}

export const services: GatewayService[] = [
  authService,
  billingService,
  catalogService,
];
