import { defineEntity, p } from '@mikro-orm/core';

/** A topic articles are filed under. */
export const Tag = defineEntity({
  name: 'Tag',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(64).unique(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});
