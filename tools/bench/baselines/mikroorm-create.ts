/**
 * The makemigrations baseline: MikroORM's own `orm.migrator.create()` on the same entity files
 * as a Tributary workspace, in one process, with one ORM config for every service (what a
 * MikroORM user of the monorepo would run). Prints `{"maxRSS": KB, "file": name}` on stdout.
 *
 * Usage: node mikroorm-create.ts <workspace> <migrations folder> <database url>
 */
import { enableCompileCache } from 'node:module';
import { workspaceEntities } from './workspace-entities.ts';

// The same on-disk compile cache as Tributary's CLI, so that neither side wins by caching alone.
enableCompileCache?.();
const { Migrator } = await import('@mikro-orm/migrations');
const { MikroORM } = await import('@mikro-orm/postgresql');

const [workspace, migrationsDir, clientUrl] = process.argv.slice(2);
if (!workspace || !migrationsDir || !clientUrl) throw new Error('usage: mikroorm-create.ts <workspace> <migrations folder> <database url>');

const entities = await workspaceEntities(workspace);

const orm = await MikroORM.init({
  clientUrl,
  entities,
  extensions: [Migrator],
  migrations: { path: migrationsDir, emit: 'ts' },
  discovery: { warnWhenNoEntities: false },
  allowGlobalContext: true,
  debug: false,
});
const result = await orm.migrator.create();
await orm.close(true);
process.stdout.write(`${JSON.stringify({ maxRSS: process.resourceUsage().maxRSS, file: result.fileName, statements: result.diff.up.length })}\n`);
