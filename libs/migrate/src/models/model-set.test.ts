/**
 * The model set discovers the entities with an indexed `findReferencingProperties`: every
 * entity must end up with exactly the referencing properties MikroORM's own discovery gives it,
 * in the same order, on entity sets shaped like real applications (cross-service foreign keys,
 * single-table inheritance, embeddables, pivot tables).
 */
import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, describe, expect, it } from 'vitest';
import { conformanceWorkspace, DEFINE_ENTITY_SERVICES } from '../../../../test/conformance/workspace.ts';
import { loadConfig } from '../config/config.ts';
import { discoverServices } from '../config/services.ts';
import { discoveryOptions, loadEntities } from './loader.ts';
import { buildModelSet } from './model-set.ts';

// The decorated service needs the CLI's TypeScript hooks, which a test's in-process imports do not go through.
const ws = conformanceWorkspace(DEFINE_ENTITY_SERVICES);
afterAll(() => ws.dispose());

function referencing(orm: MikroORM): Array<[string, string[]]> {
  return [...orm.getMetadata().getAll().values()]
    .map((meta): [string, string[]] => [meta.className, meta.referencingProperties.map(({ meta: from, prop }) => `${from.className}.${prop.name}`)])
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

describe('model set discovery', () => {
  it("gives every entity MikroORM's own referencing properties", async () => {
    const config = loadConfig({ cwd: ws.dir });
    const entities = await loadEntities(discoverServices(config), config.root);
    const models = buildModelSet(entities, config.root);
    const plain = new MikroORM({ ...discoveryOptions(entities), dbName: 'tributary_offline', discovery: { warnWhenNoEntities: false }, allowGlobalContext: true });
    try {
      const ours = referencing(models.orm);
      expect(ours.filter(([, from]) => from.length > 0).length).toBeGreaterThan(5);
      expect(ours).toEqual(referencing(plain));
    } finally {
      await Promise.all([models.close(), plain.close()]);
    }
  });
});
