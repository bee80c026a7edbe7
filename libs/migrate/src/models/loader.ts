/**
 * Loads each service's entity definitions: every exported `defineEntity(...)`/`EntitySchema`
 * value of every `.ts`/`.js` file under the service's models folder (tests excluded).
 */
import { basename, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EntitySchema } from '@mikro-orm/core';
import type { Service } from '../config/services.ts';
import { modelFiles } from './files.ts';
import { TributaryError, describeError } from '../errors.ts';

export interface LoadedEntity {
  schema: EntitySchema<any, any>;
  service: Service;
  /** Absolute path of the file that exports it. */
  file: string;
}

export { modelFiles };

export async function loadEntities(services: Service[], root: string): Promise<LoadedEntity[]> {
  const found = new Map<EntitySchema<any, any>, LoadedEntity>();
  for (const service of services) {
    for (const file of modelFiles(service)) {
      let exports: Record<string, unknown>;
      try {
        exports = await import(pathToFileURL(file).href);
      } catch (error) {
        throw new TributaryError(`Service ${service.name}: model file ${relative(root, file)} failed to load: ${describeError(error)}`, { cause: error });
      }
      for (const value of Object.values(exports)) {
        if (!(value instanceof EntitySchema)) continue;
        const earlier = found.get(value);
        if (earlier && earlier.service !== service) {
          throw new TributaryError(`Entity ${value.meta.className} is exported by service ${earlier.service.name} (${relative(root, earlier.file)}) and by service ${service.name} (${relative(root, file)}): export an entity only from the service that owns its table.`);
        }
        // A barrel file (index.ts) re-exports; name the file that defines the entity instead.
        if (!earlier || /^index\.[mc]?[jt]s$/.test(basename(earlier.file))) found.set(value, { schema: value, service, file });
      }
    }
  }
  return [...found.values()];
}
