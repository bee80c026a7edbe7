import { defineEntity, p } from '@mikro-orm/core';
import { Customer } from './customer.ts';

export const InvoiceStatuses = ['draft', 'issued', 'paid', 'void'] as const;

/** A bill sent to a customer; its total is the sum of its lines. */
export const Invoice = defineEntity({
  name: 'Invoice',
  tableName: 'invoice',
  properties: {
    id: p.integer().primary().autoincrement(),
    customer: () => p.manyToOne(Customer),
    number: p.string().length(32).unique(),
    status: p.enum(InvoiceStatuses).default('draft'),
    total: p.decimal().precision(12).scale(2).default('0'),
    issuedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});
