export { Tag } from './tag.ts';
export { Article, ArticleStatuses } from './article.ts';
export { Comment, CommentStates } from './comment.ts';
export { ArticleStats } from './article-stats.ts';
export { Entry } from './entry.ts';
