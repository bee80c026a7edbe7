import { defineEntity, p } from '@mikro-orm/core';
import { Invoice } from './invoice.ts';

/** One priced line of an invoice. */
export const InvoiceLine = defineEntity({
  name: 'InvoiceLine',
  tableName: 'invoice_line',
  checks: [{ name: 'invoice_line_quantity_positive', expression: 'quantity > 0' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    invoice: () => p.manyToOne(Invoice).deleteRule('cascade'),
    description: p.string().length(500),
    quantity: p.integer(),
    unitPrice: p.decimal().precision(12).scale(2),
  },
});
