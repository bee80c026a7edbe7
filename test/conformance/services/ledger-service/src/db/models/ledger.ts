import { defineEntity, p } from '@mikro-orm/core';
import { Member } from '../../../../identity-service/src/db/models/index.ts';

/** A book of account in one currency, held by a member; lives in the ledger schema. */
export const Ledger = defineEntity({
  name: 'Ledger',
  tableName: 'ledger',
  schema: 'ledger',
  properties: {
    id: p.integer().primary().autoincrement(),
    code: p.string().length(32).unique(),
    currency: p.string().length(3).default('EUR'),
    holder: () => p.manyToOne(Member).nullable().deleteRule('set null'),
    openedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});
