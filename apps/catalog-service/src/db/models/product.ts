import { defineEntity, p } from '@mikro-orm/core';
import { Category } from './category.ts';

/** Something for sale, tagged and filed under one category. */
export const Product = defineEntity({
  name: 'Product',
  tableName: 'product',
  indexes: [{ name: 'product_category_id_name_index', properties: ['category', 'name'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    sku: p.string().length(64).unique(),
    name: p.string().length(200),
    category: () => p.manyToOne(Category),
    tags: p.array().default([]),
    price: p.decimal().precision(12).scale(2),
    active: p.boolean().default(true),
  },
});
