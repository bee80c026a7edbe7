/** Loads every service's models of a workspace into one `ModelSet`, or as entities for a connected ORM. */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { TributaryConfig } from '../config/config.ts';
import { discoverServices, type Service } from '../config/services.ts';
import { discoveryOptions, loadEntities } from './loader.ts';
import { buildModelSet, type ModelSet } from './model-set.ts';

/** `reuse`: an already-initialised ORM of exactly these models, whose metadata is borrowed. */
export async function loadModels(config: TributaryConfig, services: Service[], reuse?: MikroORM): Promise<ModelSet> {
  return buildModelSet(await loadEntities(services, config.root), config.root, reuse);
}

/** Every service's entities as MikroORM options, for the ORM that runs data migrations (`this.getEntityManager()`). */
export async function workspaceEntities(config: TributaryConfig): Promise<ReturnType<typeof discoveryOptions>> {
  return discoveryOptions(await loadEntities(discoverServices(config), config.root));
}

export type { ModelSet } from './model-set.ts';
