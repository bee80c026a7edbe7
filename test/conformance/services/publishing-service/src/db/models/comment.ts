import { defineEntity, p } from '@mikro-orm/core';
import { Member } from '../../../../identity-service/src/db/models/index.ts';
import { Article } from './article.ts';

export const CommentStates = ['visible', 'hidden', 'flagged'] as const;

/** A reply to an article or to another comment (a thread). */
export const Comment = defineEntity({
  name: 'Comment',
  tableName: 'comment',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    article: () => p.manyToOne(Article).deleteRule('cascade'),
    author: () => p.manyToOne(Member).deleteRule('cascade'),
    parent: () => p.manyToOne(Comment).nullable().deleteRule('set null'),
    body: p.text(),
    state: p.enum(CommentStates).nativeEnumName('comment_state').default('visible'),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});
