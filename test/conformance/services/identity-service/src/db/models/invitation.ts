import { defineEntity, p } from '@mikro-orm/core';
import { Member } from './member.ts';

/** A pending invitation to join; outlives the member who sent it. */
export const Invitation = defineEntity({
  name: 'Invitation',
  tableName: 'invitation',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    email: p.string().length(320).index(),
    token: p.string().length(64).unique(),
    invitedBy: () => p.manyToOne(Member).nullable().deleteRule('set null'),
    expiresAt: p.datetime(),
  },
});
