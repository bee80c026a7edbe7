import { defineEntity, p, type EntityClass } from '@mikro-orm/core';
import { Member } from './member.ts';

/**
 * Members with a job on the platform, in one table (single-table inheritance): the root is
 * abstract, each kind adds columns of its own, which the shared table holds as nullable.
 */
export const StaffMember = defineEntity({
  name: 'StaffMember',
  tableName: 'staff_member',
  abstract: true,
  discriminatorColumn: 'kind',
  // Entity names, resolved by MikroORM at discovery (the children are defined below this root); the
  // map is what gives each child its value.
  discriminatorMap: { editor: 'Editor', moderator: 'Moderator', admin: 'Administrator' } as Record<string, unknown> as Record<string, EntityClass<any>>,
  properties: {
    id: p.integer().primary().autoincrement(),
    kind: p.string().length(20),
    member: () => p.oneToOne(Member).owner().deleteRule('cascade'),
    title: p.string().length(120),
    since: p.date().defaultRaw('current_date'),
  },
});

export const Editor = defineEntity({
  name: 'Editor',
  extends: StaffMember,
  properties: {
    section: p.string().length(60).nullable(),
    deskCode: p.string().length(20).unique(),
  },
});

export const Moderator = defineEntity({
  name: 'Moderator',
  extends: StaffMember,
  properties: {
    shiftHours: p.smallint().default(8),
    escalationEmail: p.string().length(320).unique(),
  },
});

export const Administrator = defineEntity({
  name: 'Administrator',
  extends: StaffMember,
  properties: {
    clearance: p.smallint(),
  },
});
