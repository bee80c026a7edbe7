/**
 * Opens the database a run works on: PostgreSQL when `DATABASE_URL` is set (open-postgres.ts),
 * otherwise the embedded PGlite database in `.data/pglite/`, held by one process at a time
 * (open-pglite.ts). Every database comes with the one pinned session that holds the advisory
 * lock and runs non-transactional SQL. An app's own ORM is adopted instead (adopt-orm.ts), and
 * entities are registered when a data migration first needs them (entity-registry.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TributaryConfig } from '../config/config.ts';
import { describeTarget, ensureEmbeddedDatabase } from './embedded.ts';
import { acquireFileLock } from './file-lock.ts';
import type { Database, OpenOptions } from './database.ts';

export type { Database, EntityDiscovery, EntityLoader, EntityRegistry, OpenOptions, PinnedSession } from './database.ts';
export { describeTarget, embeddedDatabaseExists } from './embedded.ts';
export { withEntitiesOnDemand } from './entity-registry.ts';

// Each opener is imported by the run that needs it: PostgreSQL runs never load PGlite, and the other way round.
export async function openDatabase(config: TributaryConfig, options: OpenOptions = {}): Promise<Database> {
  if (options.memory) return (await import('./open-pglite.ts')).openPglite('memory://', 'in-memory PGlite', undefined, options);
  if (!config.databaseUrl) {
    mkdirSync(dirname(config.pgliteDir), { recursive: true });
    const lock = acquireFileLock(`${config.pgliteDir}.lock`, describeTarget(config));
    try {
      ensureEmbeddedDatabase(config);
      return await (await import('./open-pglite.ts')).openPglite(config.pgliteDir, describeTarget(config), lock, options);
    } catch (error) {
      lock.release();
      throw error;
    }
  }
  return (await import('./open-postgres.ts')).openPostgres(config, options);
}

/** Runs `fn` with the database open, closing it afterwards whatever happens. */
export async function withDatabase<T>(config: TributaryConfig, fn: (db: Database) => Promise<T>, options: OpenOptions = {}): Promise<T> {
  const db = await openDatabase(config, options);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
