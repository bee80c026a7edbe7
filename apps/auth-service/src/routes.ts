/**
 * auth-service's HTTP routes, mounted by the gateway under `/auth`: create, read and list
 * users through MikroORM. The gateway's registry (apps/gateway/src/services.ts) imports `service`.
 */
import { wrap, type MikroORM } from '@mikro-orm/core';
import type { FastifyPluginAsync } from 'fastify';
import { ApiKey, Session, User, UserRoles } from './db/models/index.ts';

const routes: FastifyPluginAsync<{ orm: MikroORM }> = async (app, { orm }) => {
  app.post<{ Body: { email: string; displayName: string; role?: (typeof UserRoles)[number] } }>('/users', {
    schema: {
      body: {
        type: 'object',
        required: ['email', 'displayName'],
        additionalProperties: false,
        properties: {
          email: { type: 'string', minLength: 3, maxLength: 320 },
          displayName: { type: 'string', minLength: 1, maxLength: 120 },
          role: { type: 'string', enum: [...UserRoles] },
        },
      },
    },
  }, async (request, reply) => {
    const em = orm.em.fork();
    const user = em.create(User, { ...request.body, email: request.body.email.toLowerCase() });
    await em.flush();
    return reply.code(201).send(wrap(user).toObject());
  });

  app.get<{ Params: { id: number } }>('/users/:id', { schema: { params: { type: 'object', properties: { id: { type: 'integer' } } } } }, async (request) => {
    const user = await orm.em.fork().findOneOrFail(User, request.params.id);
    return wrap(user).toObject();
  });

  app.get('/users', async () => {
    const users = await orm.em.fork().findAll(User, { orderBy: { id: 'asc' }, limit: 100 });
    return users.map((user) => wrap(user).toObject());
  });
};

export const service = {
  name: 'auth-service',
  prefix: '/auth',
  entities: [User, Session, ApiKey],
  routes,
};
