/**
 * Run as a script inside a scratch workspace: builds the schema MikroORM's own schema generator
 * would create from the workspace's models into the database at argv[2] (a PostgreSQL URL, or
 * `pglite` for an in-memory PGlite) and prints its description as JSON.
 */
import { loadConfig } from '../../libs/migrate/src/config/config.ts';
import { discoverServices } from '../../libs/migrate/src/config/services.ts';
import { discoveryOptions, loadEntities } from '../../libs/migrate/src/models/loader.ts';
import { describeSchema } from './schema.ts';

const [target, cwd] = process.argv.slice(2);
const config = loadConfig({ cwd });
const options = { ...discoveryOptions(await loadEntities(discoverServices(config), config.root)), discovery: { warnWhenNoEntities: false }, allowGlobalContext: true };
const orm =
  target === 'pglite'
    ? await (await import('@mikro-orm/pglite')).MikroORM.init({ ...options, dbName: 'memory://' })
    : await (await import('@mikro-orm/postgresql')).MikroORM.init({ ...options, clientUrl: target });
await orm.schema.create();
const connection = orm.em.getConnection();
const lines = await describeSchema((sql) => connection.execute(sql) as Promise<any[]>);
process.stdout.write(JSON.stringify(lines));
await orm.close(true);
