/**
 * MikroORM's modules, loaded the first time something needs them rather than at start-up: applying
 * generated migrations on PostgreSQL needs only `pg`, and importing the ORM (and Kysely under it,
 * several hundred modules) was most of `migrate`'s fixed cost. Synchronous (`require` of an ES
 * module), so a getter can load them; the instance is the one an `import` would give.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const postgresqlOrm = (): typeof import('@mikro-orm/postgresql') => require('@mikro-orm/postgresql');
export const pgliteOrm = (): typeof import('@mikro-orm/pglite') => require('@mikro-orm/pglite');
export const migrations = (): typeof import('@mikro-orm/migrations') => require('@mikro-orm/migrations');
