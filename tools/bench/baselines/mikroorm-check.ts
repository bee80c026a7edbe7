/**
 * The check baseline: MikroORM's own `migration:check` (`orm.migrator.checkSchema()`) on the same
 * entity files as a Tributary workspace, in one process, with one ORM config for every service,
 * against the database the stream built (no snapshot: MikroORM compares the models with the
 * database itself). What a MikroORM user pays to learn whether models and schema agree. Prints
 * `{"maxRSS": KB, "needed": boolean}` on stdout.
 *
 * Usage: node mikroorm-check.ts <workspace> <scratch folder> <database url>
 */
import { enableCompileCache } from 'node:module';
import { workspaceEntities } from './workspace-entities.ts';

// The same on-disk compile cache as Tributary's CLI, so that neither side wins by caching alone.
enableCompileCache?.();
const { Migrator } = await import('@mikro-orm/migrations');
const { MikroORM } = await import('@mikro-orm/postgresql');

const [workspace, scratch, clientUrl] = process.argv.slice(2);
if (!workspace || !scratch || !clientUrl) throw new Error('usage: mikroorm-check.ts <workspace> <scratch folder> <database url>');

const entities = await workspaceEntities(workspace);

const orm = await MikroORM.init({
  clientUrl,
  entities,
  extensions: [Migrator],
  // It creates its history table on its first run, as `migration:check` does: under a name of its
  // own (a table no service owns, which Tributary's check lists apart, not as drift).
  migrations: { path: scratch, snapshot: false, tableName: 'mikro_orm_check_baseline' },
  // Tributary's history table is not a model: not drift to MikroORM either.
  schemaGenerator: { skipTables: ['tributary_migrations'] },
  discovery: { warnWhenNoEntities: false },
  allowGlobalContext: true,
  debug: false,
});
const needed = await orm.migrator.checkSchema();
await orm.close(true);
process.stdout.write(`${JSON.stringify({ maxRSS: process.resourceUsage().maxRSS, needed })}\n`);
