export { Member, MemberLinks } from './member.ts';
export { StaffMember, Editor, Moderator, Administrator } from './staff.ts';
export { Invitation } from './invitation.ts';
