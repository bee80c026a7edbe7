import { defineEntity, p } from '@mikro-orm/core';

/** Where a member can be found elsewhere; stored inline in the member row (links_* columns). */
export const MemberLinks = defineEntity({
  embeddable: true,
  name: 'MemberLinks',
  properties: {
    website: p.string().length(500).nullable(),
    github: p.string().length(80).nullable(),
    mastodon: p.string().length(120).nullable(),
  },
});

/** Someone who signs in, writes and follows other members; every other service points here. */
export const Member = defineEntity({
  name: 'Member',
  properties: {
    id: p.integer().primary().autoincrement(),
    email: p.string().length(320).unique(),
    handle: p.string().length(40).unique(),
    bio: p.text().default(''),
    avatarUrl: p.string().length(500).nullable(),
    links: () => p.embedded(MemberLinks).prefix('links_'),
    preferences: p.json<Record<string, unknown>>().default('{}'),
    following: () => p.manyToMany(Member).pivotTable('member_follows').joinColumn('follower_id').inverseJoinColumn('followed_id'),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
