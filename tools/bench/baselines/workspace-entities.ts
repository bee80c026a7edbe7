/**
 * The entities a MikroORM baseline gets: every exported EntitySchema of every model file of a
 * bench workspace — the same discovery rule as Tributary's loader. MikroORM is imported here
 * only when called, so that a baseline can turn Node's compile cache on first.
 */
import { globSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EntitySchema } from '@mikro-orm/core';

export async function workspaceEntities(workspace: string): Promise<EntitySchema[]> {
  const { EntitySchema } = await import('@mikro-orm/core');
  const entities = new Set<EntitySchema>();
  for (const file of globSync('apps/*/src/db/models/**/*.ts', { cwd: workspace }).sort()) {
    const exports = await import(pathToFileURL(join(workspace, file)).href);
    for (const value of Object.values(exports)) if (value instanceof EntitySchema) entities.add(value);
  }
  return [...entities];
}
