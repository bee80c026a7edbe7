import { defineEntity, p } from '@mikro-orm/core';

/** A free-form label put on ledger entries. */
export const Label = defineEntity({
  name: 'Label',
  schema: 'ledger',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(60).unique(),
    color: p.string().length(7).nullable(),
  },
});
