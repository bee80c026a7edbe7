/**
 * Times one boot check in-process, the way an app runs it: the models already imported, the
 * ORM already connected to PostgreSQL with them, then `checkMigrationsOnStartup` once. Prints
 * `{"ms", "applied", "status"}` on stdout, or `{"unavailable": reason}` when the library has no
 * boot check yet.
 *
 * Usage: node boot-check.ts <workspace> <database url> history|models
 */
import { globSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [workspace, databaseUrl, mode] = process.argv.slice(2);
if (!workspace || !databaseUrl || (mode !== 'history' && mode !== 'models')) throw new Error('usage: boot-check.ts <workspace> <database url> history|models');

const bootModule = resolve(import.meta.dirname, '../../../libs/migrate/src/boot.ts');
let boot: any;
try {
  boot = await import(pathToFileURL(bootModule).href);
} catch (error) {
  boot = { unavailable: (error as Error).message };
}
if (typeof boot.checkMigrationsOnStartup !== 'function' || typeof boot.openDatabase !== 'function') {
  process.stdout.write(`${JSON.stringify({ unavailable: boot.unavailable ?? 'boot.ts exports no checkMigrationsOnStartup/openDatabase' })}\n`);
  process.exit(0);
}

// An app has imported its models and opened its ORM with them before it checks.
const { EntitySchema } = await import('@mikro-orm/core');
const entities: unknown[] = [];
for (const file of globSync('apps/*/src/db/models/**/*.ts', { cwd: workspace })) {
  for (const value of Object.values(await import(pathToFileURL(join(workspace, file)).href))) if (value instanceof EntitySchema) entities.push(value);
}
const config = boot.loadConfig({ cwd: workspace, databaseUrl });
const db = await boot.openDatabase(config, { entities });
await db.connection.execute('select 1');

const started = performance.now();
const status = await boot.checkMigrationsOnStartup({ db, cwd: workspace, modelChanges: mode === 'models', log: () => {} });
const ms = performance.now() - started;
await db.close();
process.stdout.write(`${JSON.stringify({ ms, applied: status.migrations.applied, status: status.status, warnings: status.warnings.slice(0, 3) })}\n`);
