import { defineEntity, p } from '@mikro-orm/core';
import { Member } from '../../../../identity-service/src/db/models/index.ts';
import { Tag } from './tag.ts';

export const ArticleStatuses = ['draft', 'published', 'archived'] as const;

/** A story written by a member: tagged, favourited by other members, commented on. */
export const Article = defineEntity({
  name: 'Article',
  tableName: 'article',
  indexes: [{ properties: ['author', 'status'] }],
  checks: [{ name: 'article_favorites_count_check', expression: 'favorites_count >= 0' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    slug: p.string().length(255).unique(),
    title: p.string().length(255).index(),
    description: p.string().length(1000).nullable(),
    body: p.text(),
    tagList: p.array().default([]),
    status: p.enum(ArticleStatuses).nativeEnumName('article_status').default('draft'),
    favoritesCount: p.integer().default(0),
    metadata: p.json<Record<string, unknown>>().nullable(),
    author: () => p.manyToOne(Member).deleteRule('cascade'),
    tags: () => p.manyToMany(Tag),
    favoritedBy: () => p.manyToMany(Member).pivotTable('article_favorites'),
    publishedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
