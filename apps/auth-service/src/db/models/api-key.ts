import { defineEntity, p } from '@mikro-orm/core';
import { User } from './user.ts';

/** A machine credential; only the prefix and a hash of the secret are stored. */
export const ApiKey = defineEntity({
  name: 'ApiKey',
  tableName: 'api_key',
  properties: {
    id: p.integer().primary().autoincrement(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    prefix: p.string().length(12).index(),
    secretHash: p.string().length(128),
    scopes: p.array().default([]),
    lastUsedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});
