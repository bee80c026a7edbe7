import { defineEntity, p } from '@mikro-orm/core';

export const UserRoles = ['member', 'admin', 'support'] as const;

/** An account that can sign in; other services reference it by id. */
export const User = defineEntity({
  name: 'User',
  tableName: 'user',
  properties: {
    id: p.integer().primary().autoincrement(),
    email: p.string().length(320).unique(),
    displayName: p.string().length(120),
    role: p.enum(UserRoles).default('member'),
    settings: p.json<Record<string, unknown>>().default('{}'),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
