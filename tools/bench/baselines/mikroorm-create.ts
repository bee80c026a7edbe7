/**
 * The makemigrations baseline: MikroORM's own `orm.migrator.create()` on the same entity files
 * as a Tributary workspace, in one process, with one ORM config for every service (what a
 * MikroORM user of the monorepo would run). Prints `{"maxRSS": KB, "file": name}` on stdout.
 *
 * Usage: node mikroorm-create.ts <workspace> <migrations folder> <database url>
 */
import { globSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// The same on-disk compile cache as Tributary's CLI, so that neither side wins by caching alone.
enableCompileCache?.();
const { EntitySchema } = await import('@mikro-orm/core');
const { Migrator } = await import('@mikro-orm/migrations');
const { MikroORM } = await import('@mikro-orm/postgresql');

const [workspace, migrationsDir, clientUrl] = process.argv.slice(2);
if (!workspace || !migrationsDir || !clientUrl) throw new Error('usage: mikroorm-create.ts <workspace> <migrations folder> <database url>');

// The same discovery rule as Tributary's loader: every exported EntitySchema of every model file.
const entities = new Set<InstanceType<typeof EntitySchema>>();
for (const file of globSync('apps/*/src/db/models/**/*.ts', { cwd: workspace }).sort()) {
  const exports = await import(pathToFileURL(join(workspace, file)).href);
  for (const value of Object.values(exports)) if (value instanceof EntitySchema) entities.add(value);
}

const orm = await MikroORM.init({
  clientUrl,
  entities: [...entities],
  extensions: [Migrator],
  migrations: { path: migrationsDir, emit: 'ts' },
  discovery: { warnWhenNoEntities: false },
  allowGlobalContext: true,
  debug: false,
});
const result = await orm.migrator.create();
await orm.close(true);
process.stdout.write(`${JSON.stringify({ maxRSS: process.resourceUsage().maxRSS, file: result.fileName, statements: result.diff.up.length })}\n`);
