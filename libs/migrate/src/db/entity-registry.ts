/**
 * Gives an open database's ORM the workspace's entities the first time a data migration asks for
 * the entity manager — most runs never do, and never load a model file.
 */
import { TributaryError, describeError } from '../errors.ts';
import { QUIET, replaceParts, sqlParts, withParts, type Database, type EntityLoader, type EntityDiscovery } from './database.ts';
import { pgliteOrm, postgresqlOrm } from './orm-modules.ts';

/**
 * The same database, whose ORM learns the workspace's entities from `load` the first time a
 * migration asks for the entity manager; most runs never do, and never load a model file. An
 * ORM that already knows entities (the gateway's) is left as it is.
 */
export function withEntitiesOnDemand(db: Database, load: EntityLoader): Database {
  if (db.ormCreated?.() !== false && db.orm.getMetadata().getAll().size > 0) return db;
  let ready = false;
  let loading: Promise<void> | undefined;
  const onDemand = withParts(db, {
    entities: {
      get ready() {
        return ready;
      },
      load: () => (loading ??= register()),
    },
  });
  const register = async () => {
    const forked = await forkWithEntities(db, await load());
    // From now on migrations are made with the fork's driver: same connections, and the entities.
    replaceParts(onDemand, { orm: forked, ...sqlParts(forked) });
    ready = true;
  };
  return onDemand;
}

/**
 * A second MikroORM over the same connections (it reuses the open ORM's Kysely client, so its
 * transactions are the same transactions), discovered with the entities as the app's own
 * config would (decorated classes need their metadata provider). It is never closed itself:
 * closing the first one closes the connections both use.
 */
async function forkWithEntities(db: Database, discovery: EntityDiscovery): Promise<Database['orm']> {
  const config = db.orm.config as { get(key: string): any };
  const options = { ...QUIET, ...(discovery as any), driverOptions: db.connection.getClient(), dbName: config.get('dbName') };
  try {
    if (db.kind === 'pglite') return (await pgliteOrm().MikroORM.init(options)) as Database['orm'];
    return (await postgresqlOrm().MikroORM.init({ ...options, clientUrl: config.get('clientUrl') })) as Database['orm'];
  } catch (error) {
    if (error instanceof TributaryError) throw error;
    throw new TributaryError(`The models could not be registered for the entity manager of data migrations: ${describeError(error)}`, { cause: error });
  }
}

