/** Loads every service's models of a workspace into one `ModelSet`. */
import type { TributaryConfig } from '../config/config.ts';
import type { Service } from '../config/services.ts';
import { loadEntities } from './loader.ts';
import { buildModelSet, type ModelSet } from './model-set.ts';

export async function loadModels(config: TributaryConfig, services: Service[]): Promise<ModelSet> {
  return buildModelSet(await loadEntities(services, config.root), config.root);
}

export type { ModelSet } from './model-set.ts';
