import { describe, expect, it } from 'vitest';
import { addToRegistry } from './registry.ts';

const registry = `/** The registry; \`nx g @tributary/migrate:service <name>\` appends to it. */
import type { FastifyPluginAsync } from 'fastify';
import { service as authService } from '@acme/auth-service/routes';
import { service as billingService } from '@acme/billing-service/routes';

export interface GatewayService { name: string }

export const services: GatewayService[] = [
  authService,
  billingService
];
`;

describe('addToRegistry', () => {
  it('adds the import after the last service import and the entry at the end of the array', () => {
    const result = addToRegistry(registry, { identifier: 'ordersService', packageName: '@acme/orders-service' });
    expect(result.wired).toBe(true);
    expect(result.wired && result.source).toBe(`/** The registry; \`nx g @tributary/migrate:service <name>\` appends to it. */
import type { FastifyPluginAsync } from 'fastify';
import { service as authService } from '@acme/auth-service/routes';
import { service as billingService } from '@acme/billing-service/routes';
import { service as ordersService } from '@acme/orders-service/routes';

export interface GatewayService { name: string }

export const services: GatewayService[] = [
  authService,
  billingService,
  ordersService,
];
`);
  });

  it('leaves a file alone that does not invite the generator, already has the service, or has no array', () => {
    expect(addToRegistry(registry.replace('nx g @tributary/migrate:service', 'hands off'), { identifier: 'x', packageName: 'x' })).toMatchObject({ wired: false, reason: expect.stringContaining('not meant to be edited') });
    expect(addToRegistry(registry, { identifier: 'authService', packageName: '@acme/auth-service' })).toMatchObject({ wired: false, reason: expect.stringContaining('already imports @acme/auth-service/routes') });
    expect(addToRegistry(registry.replace('export const services: GatewayService[] = [', 'export const services = list('), { identifier: 'x', packageName: 'x' })).toMatchObject({ wired: false, reason: expect.stringContaining('no `export const services') });
  });
});
