/** The files of a new service: its package.json, an example entity, the models index and (for the unified app) its routes. */

export interface ServiceNames {
  /** The service (and Nx project) name, e.g. `orders-service`. */
  name: string;
  /** The npm package name, e.g. `@acme/orders-service`. */
  packageName: string;
  /** The example entity, e.g. `Order`. */
  entity: string;
  /** Its table, e.g. `order`. */
  table: string;
  /** Its file in the models folder, without extension, e.g. `order`. */
  entityFile: string;
  /** The unified app's URL prefix, e.g. `/orders`. */
  prefix: string;
}

export function packageJson(names: ServiceNames, withRoutes: boolean): string {
  const exports: Record<string, string> = { './models': './src/db/models/index.ts' };
  if (withRoutes) exports['./routes'] = './src/routes.ts';
  const pkg = { name: names.packageName, version: '0.1.0', private: true, type: 'module', exports, nx: { name: names.name } };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export function entityFile(names: ServiceNames): string {
  return `import { defineEntity, p } from '@mikro-orm/core';

/** An example entity of ${names.name}: change it, then run \`nx run ${names.name}:makemigrations -m "…"\`. */
export const ${names.entity} = defineEntity({
  name: '${names.entity}',
  tableName: '${names.table}',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(200),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});
`;
}

export function modelsIndex(names: ServiceNames): string {
  return `export { ${names.entity} } from './${names.entityFile}.ts';\n`;
}

export function routesFile(names: ServiceNames): string {
  return `/**
 * ${names.name}'s HTTP routes, mounted by the gateway under \`${names.prefix}\` (registered in the
 * gateway's service registry by \`nx g @tributary/migrate:service\`).
 */
import type { MikroORM } from '@mikro-orm/core';
import type { FastifyPluginAsync } from 'fastify';
import { ${names.entity} } from './db/models/index.ts';

const routes: FastifyPluginAsync<{ orm: MikroORM }> = async (app, { orm }) => {
  app.get('/', async () => orm.em.fork().findAll(${names.entity}, { orderBy: { id: 'asc' }, limit: 100 }));
};

export const service = {
  name: '${names.name}',
  prefix: '${names.prefix}',
  entities: [${names.entity}],
  routes,
};
`;
}
