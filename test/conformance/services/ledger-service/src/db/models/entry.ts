import { defineEntity, p } from '@mikro-orm/core';
import { Label } from './label.ts';
import { Ledger } from './ledger.ts';

export const EntryDirections = ['debit', 'credit'] as const;

/** One movement on a ledger (ledger.entry); a correction points at the entry it reverses. */
export const LedgerEntry = defineEntity({
  name: 'LedgerEntry',
  tableName: 'entry',
  schema: 'ledger',
  uniques: [{ properties: ['ledger', 'reference'] }],
  indexes: [{ properties: ['ledger', 'postedAt'] }],
  checks: [{ name: 'entry_amount_not_zero', expression: 'amount <> 0' }],
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    ledger: () => p.manyToOne(Ledger).deleteRule('cascade'),
    amount: p.decimal().precision(14).scale(2),
    direction: p.enum(EntryDirections).nativeEnumName('entry_direction'),
    reference: p.string().length(64),
    memo: p.text().nullable(),
    postedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    reverses: () => p.oneToOne(LedgerEntry).owner().nullable().deleteRule('set null'),
    labels: () => p.manyToMany(Label).pivotTable('ledger.entry_labels'),
  },
});
