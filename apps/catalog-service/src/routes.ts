/**
 * catalog-service's HTTP routes, mounted by the gateway under `/catalog`: categories and the
 * products filed under them, through MikroORM.
 */
import { wrap, type MikroORM } from '@mikro-orm/core';
import type { FastifyPluginAsync } from 'fastify';
import { Category, Product } from './db/models/index.ts';

const routes: FastifyPluginAsync<{ orm: MikroORM }> = async (app, { orm }) => {
  app.post<{ Body: { slug: string; name: string; parentSlug?: string } }>('/categories', {
    schema: {
      body: {
        type: 'object',
        required: ['slug', 'name'],
        additionalProperties: false,
        properties: {
          slug: { type: 'string', pattern: '^[a-z0-9-]{1,80}$' },
          name: { type: 'string', minLength: 1, maxLength: 120 },
          parentSlug: { type: 'string' },
        },
      },
    },
  }, async (request, reply) => {
    const em = orm.em.fork();
    const parent = request.body.parentSlug ? await em.findOneOrFail(Category, { slug: request.body.parentSlug }) : null;
    const category = em.create(Category, { slug: request.body.slug, name: request.body.name, parent });
    await em.flush();
    return reply.code(201).send(wrap(category).toObject());
  });

  app.post<{ Body: { sku: string; name: string; categorySlug: string; price: string; tags?: string[] } }>('/products', {
    schema: {
      body: {
        type: 'object',
        required: ['sku', 'name', 'categorySlug', 'price'],
        additionalProperties: false,
        properties: {
          sku: { type: 'string', minLength: 1, maxLength: 64 },
          name: { type: 'string', minLength: 1, maxLength: 200 },
          categorySlug: { type: 'string' },
          price: { type: 'string', pattern: '^\\d{1,10}(\\.\\d{1,2})?$' },
          tags: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  }, async (request, reply) => {
    const em = orm.em.fork();
    const category = await em.findOneOrFail(Category, { slug: request.body.categorySlug });
    const { categorySlug: _, ...fields } = request.body;
    const product = em.create(Product, { ...fields, category, tags: fields.tags ?? [] });
    await em.flush();
    return reply.code(201).send(wrap(product).toObject());
  });

  app.get<{ Querystring: { category?: string } }>('/products', async (request) => {
    const where = request.query.category ? { category: { slug: request.query.category } } : {};
    const products = await orm.em.fork().find(Product, where, { orderBy: { sku: 'asc' }, limit: 100 });
    return products.map((product) => wrap(product).toObject());
  });
};

export const service = {
  name: 'catalog-service',
  prefix: '/catalog',
  entities: [Category, Product],
  routes,
};
