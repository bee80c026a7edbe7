import { defineEntity, p } from '@mikro-orm/core';
import { Member } from '../../../../identity-service/src/db/models/index.ts';
import { Article } from './article.ts';

/** An article a member saved to read later (public.entry; the ledger service has its own ledger.entry). */
export const Entry = defineEntity({
  name: 'Entry',
  uniques: [{ properties: ['member', 'article'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    member: () => p.manyToOne(Member).deleteRule('cascade'),
    article: () => p.manyToOne(Article).deleteRule('cascade'),
    note: p.string().length(280).nullable(),
    addedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});
