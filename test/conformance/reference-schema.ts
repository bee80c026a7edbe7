/**
 * Run as a script inside a scratch workspace: MikroORM's own schema generator creates, in the
 * empty PostgreSQL database at argv[2], the schema of every entity of every service of the
 * workspace at argv[3] (all schemas, native enums and pivot tables included); prints its catalog
 * lines as JSON. Decorated classes are discovered as an application would discover them, with
 * MikroORM's ReflectMetadataProvider.
 */
import pg from 'pg';
import { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig } from '../../libs/migrate/src/config/config.ts';
import { discoverServices } from '../../libs/migrate/src/config/services.ts';
import { loadEntities } from '../../libs/migrate/src/models/loader.ts';
import { catalogLines } from './catalog.ts';

const [url, cwd] = process.argv.slice(2);
const config = loadConfig({ cwd });
// What the model files export: `defineEntity` values, or decorated classes (`entity`, when the loader keeps them apart).
const entities = (await loadEntities(discoverServices(config), config.root)).map((loaded) => (loaded as { entity?: unknown }).entity ?? loaded.schema);
const decorated = entities.some((entity) => typeof entity === 'function');
const metadataProvider = decorated ? (await import('@mikro-orm/decorators/legacy')).ReflectMetadataProvider : undefined;
const orm = await MikroORM.init({ entities: entities as any[], ...(metadataProvider ? { metadataProvider } : {}), clientUrl: url, discovery: { warnWhenNoEntities: false }, allowGlobalContext: true });
await orm.schema.create();
await orm.close(true);
const client = new pg.Client({ connectionString: url });
await client.connect();
const lines = await catalogLines(async (sql) => (await client.query(sql)).rows);
await client.end();
process.stdout.write(JSON.stringify(lines));
