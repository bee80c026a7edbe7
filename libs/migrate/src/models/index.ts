/** Loads every service's models of a workspace into one `ModelSet`. */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { TributaryConfig } from '../config/config.ts';
import type { Service } from '../config/services.ts';
import { loadEntities } from './loader.ts';
import { buildModelSet, type ModelSet } from './model-set.ts';

/** `reuse`: an already-initialised ORM of exactly these models, whose metadata is borrowed. */
export async function loadModels(config: TributaryConfig, services: Service[], reuse?: MikroORM): Promise<ModelSet> {
  return buildModelSet(await loadEntities(services, config.root), config.root, reuse);
}

export type { ModelSet } from './model-set.ts';
