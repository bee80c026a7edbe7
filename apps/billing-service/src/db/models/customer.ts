import { defineEntity, p } from '@mikro-orm/core';
import { User } from '@tributary/auth-service/models';

/** The billing identity of an auth-service user (a cross-service foreign key). */
export const Customer = defineEntity({
  name: 'Customer',
  tableName: 'customer',
  properties: {
    id: p.integer().primary().autoincrement(),
    user: () => p.manyToOne(User).unique(),
    legalName: p.string().length(200),
    taxId: p.string().length(32).nullable(),
    currency: p.string().length(3).default('EUR'),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});
