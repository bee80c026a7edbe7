/**
 * billing-service's HTTP routes, mounted by the gateway under `/billing`: customers (which
 * reference auth-service's users) and invoices with their lines, through MikroORM.
 */
import { wrap, type MikroORM } from '@mikro-orm/core';
import type { FastifyPluginAsync } from 'fastify';
import { User } from '@tributary/auth-service/models';
import { Customer, Invoice, InvoiceLine } from './db/models/index.ts';

interface NewInvoice {
  customerId: number;
  number: string;
  lines: Array<{ description: string; quantity: number; unitPrice: string }>;
}

const routes: FastifyPluginAsync<{ orm: MikroORM }> = async (app, { orm }) => {
  app.post<{ Body: { userId: number; legalName: string; currency?: string } }>('/customers', {
    schema: {
      body: {
        type: 'object',
        required: ['userId', 'legalName'],
        additionalProperties: false,
        properties: {
          userId: { type: 'integer' },
          legalName: { type: 'string', minLength: 1, maxLength: 200 },
          currency: { type: 'string', pattern: '^[A-Z]{3}$' },
        },
      },
    },
  }, async (request, reply) => {
    const em = orm.em.fork();
    const user = await em.findOneOrFail(User, request.body.userId);
    const customer = em.create(Customer, { user, legalName: request.body.legalName, currency: request.body.currency ?? 'EUR' });
    await em.flush();
    return reply.code(201).send(wrap(customer).toObject());
  });

  app.post<{ Body: NewInvoice }>('/invoices', {
    schema: {
      body: {
        type: 'object',
        required: ['customerId', 'number', 'lines'],
        additionalProperties: false,
        properties: {
          customerId: { type: 'integer' },
          number: { type: 'string', minLength: 1, maxLength: 32 },
          lines: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              required: ['description', 'quantity', 'unitPrice'],
              additionalProperties: false,
              properties: {
                description: { type: 'string', minLength: 1, maxLength: 500 },
                quantity: { type: 'integer', minimum: 1 },
                unitPrice: { type: 'string', pattern: '^\\d{1,10}(\\.\\d{1,2})?$' },
              },
            },
          },
        },
      },
    },
  }, async (request, reply) => {
    const em = orm.em.fork();
    const customer = await em.findOneOrFail(Customer, request.body.customerId);
    // Sum in cents: decimals arrive as strings and must not pick up float rounding.
    const cents = request.body.lines.reduce((sum, line) => sum + line.quantity * Math.round(Number(line.unitPrice) * 100), 0);
    const invoice = em.create(Invoice, { customer, number: request.body.number, total: (cents / 100).toFixed(2) });
    for (const line of request.body.lines) em.create(InvoiceLine, { invoice, ...line });
    await em.flush();
    return reply.code(201).send(wrap(invoice).toObject());
  });

  app.get<{ Params: { id: number } }>('/invoices/:id', { schema: { params: { type: 'object', properties: { id: { type: 'integer' } } } } }, async (request) => {
    const em = orm.em.fork();
    const invoice = await em.findOneOrFail(Invoice, request.params.id);
    const lines = await em.find(InvoiceLine, { invoice }, { orderBy: { id: 'asc' } });
    return { ...wrap(invoice).toObject(), lines: lines.map((line) => wrap(line).toObject()) };
  });
};

export const service = {
  name: 'billing-service',
  prefix: '/billing',
  entities: [Customer, Invoice, InvoiceLine],
  routes,
};
