import { defineEntity, p } from '@mikro-orm/core';
import { Member } from '../../../../identity-service/src/db/models/index.ts';

/** A book of account in one currency, held by a member; lives in the ledger schema. */
export const Ledger = defineEntity({
  name: 'Ledger',
  schema: 'ledger',
  properties: {
    id: p.integer().primary().autoincrement(),
    currency: p.string().length(3).default('EUR'),
    code: p.string().length(32).unique(),
    holder: () => p.manyToOne(Member).nullable().deleteRule('set null'),
    openedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});
