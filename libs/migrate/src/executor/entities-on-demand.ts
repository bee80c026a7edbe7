/**
 * Gives data migrations the entity manager with every service's entities without making other
 * runs load a single model file: until the ORM knows the entities, a migration's first
 * `getEntityManager()` call stops it; the run registers the entities and starts that migration
 * again from the beginning, none of its first start having been kept (it was rolled back, or had
 * not reached the database yet).
 */
import type { Migration } from '@mikro-orm/migrations';
import type { Database } from '../db/connection.ts';

class EntitiesNeeded extends Error {
  constructor() {
    super('this migration uses the entity manager; the entities are registered and it starts again');
  }
}

/** Migrations stopped for the entities, even if up() caught the stop itself. */
const stopped = new WeakSet<Migration>();

/** Makes `migration.getEntityManager()` stop the migration while `db`'s ORM does not know the entities. */
export function guardEntityManager(db: Pick<Database, 'entities'>, migration: Migration): void {
  if (!db.entities || db.entities.ready) return;
  const getEntityManager = migration.getEntityManager;
  migration.getEntityManager = function (this: Migration) {
    if (db.entities.ready) return getEntityManager.call(this);
    stopped.add(migration);
    throw new EntitiesNeeded();
  } as Migration['getEntityManager'];
}

/** Whether the migration asked for the entity manager before the entities were there. */
export function stoppedForEntities(migration: Migration): boolean {
  return stopped.has(migration);
}

/** Throws the stop when `migration` asked for the entities (before anything of it commits). */
export function assertNotStoppedForEntities(migration: Migration): void {
  if (stopped.has(migration)) throw new EntitiesNeeded();
}

function isEntitiesNeeded(error: unknown): boolean {
  for (let e: any = error; e; e = e.cause) if (e instanceof EntitiesNeeded) return true;
  return false;
}

/** Runs `attempt`; if a migration in it stopped for the entities, registers them and runs it once more. */
export async function startingAgainForEntities<T>(db: Database, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!isEntitiesNeeded(error) || db.entities.ready) throw error;
  }
  await db.entities.load();
  return attempt();
}
