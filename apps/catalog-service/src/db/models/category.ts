import { defineEntity, p } from '@mikro-orm/core';

/** A node of the category tree (self-referencing). */
export const Category = defineEntity({
  name: 'Category',
  tableName: 'category',
  properties: {
    id: p.integer().primary().autoincrement(),
    slug: p.string().length(80).unique(),
    name: p.string().length(120),
    parent: () => p.manyToOne(Category).nullable().deleteRule('set null'),
  },
});
