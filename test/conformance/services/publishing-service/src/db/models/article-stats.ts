import { defineEntity, p } from '@mikro-orm/core';
import { Article } from './article.ts';

/** Counters kept beside an article (one row per article). */
export const ArticleStats = defineEntity({
  name: 'ArticleStats',
  tableName: 'article_stats',
  properties: {
    id: p.integer().primary().autoincrement(),
    article: () => p.oneToOne(Article).owner().deleteRule('cascade'),
    views: p.bigint().default(0),
    lastViewedAt: p.datetime().nullable(),
  },
});
