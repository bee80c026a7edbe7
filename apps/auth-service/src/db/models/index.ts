export { User, UserRoles } from './user.ts';
export { Session } from './session.ts';
export { ApiKey } from './api-key.ts';
