/**
 * Loads each service's entity definitions: every exported `defineEntity(...)`/`EntitySchema`
 * value and every exported decorated entity class of every `.ts`/`.js` file under the service's
 * models folder (tests excluded). A file that fails to load is named with line and column.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EntitySchema, MetadataStorage, type EntityMetadata, type MetadataProvider } from '@mikro-orm/core';
import type { Service } from '../config/services.ts';
import { modelFiles } from './files.ts';
import { enableTypeScriptHooks } from './typescript-hooks.ts';
import { loadFailure } from './load-failure.ts';
import { TributaryError, describeError } from '../errors.ts';

export interface LoadedEntity {
  /** What MikroORM discovers: the `defineEntity`/`EntitySchema` value, or the decorated class. */
  entity: EntitySchema<any, any> | (abstract new (...args: any[]) => object);
  /** The entity as declared; for a decorated class, a schema over its decorator metadata (read it, don't discover it). */
  schema: EntitySchema<any, any>;
  service: Service;
  /** Absolute path of the file that exports it. */
  file: string;
  /** Set when the class's property types come from `emitDecoratorMetadata` (MikroORM's ReflectMetadataProvider). */
  metadataProvider?: typeof MetadataProvider;
}

export { modelFiles };

type EntityClass = abstract new (...args: any[]) => object;

export async function loadEntities(services: Service[], root: string): Promise<LoadedEntity[]> {
  enableTypeScriptHooks();
  const found = new Map<object, LoadedEntity>();
  const files = services.flatMap((service) => modelFiles(service).map((file) => ({ service, file })));
  const together = await importTogether(files.map(({ file }) => file));
  for (const [index, { service, file }] of files.entries()) {
    let exports: Record<string, unknown>;
    try {
      exports = together?.[index] ?? (await import(pathToFileURL(file).href));
    } catch (error) {
      throw loadFailure(error, service, file, root);
    }
    for (const value of Object.values(exports)) {
      const entity = asEntity(value);
      if (!entity) continue;
      const earlier = found.get(entity.entity);
      if (earlier && earlier.service !== service) {
        throw new TributaryError(`Entity ${entity.schema.meta.className} is exported by service ${earlier.service.name} (${relative(root, earlier.file)}) and by service ${service.name} (${relative(root, file)}): export an entity only from the service that owns its table.`);
      }
      // A barrel file (index.ts) re-exports; name the file that defines the entity instead.
      if (!earlier || /^index\.[mc]?[jt]s$/.test(basename(earlier.file))) found.set(entity.entity, { ...entity, service, file });
    }
  }
  const loaded = [...found.values()];
  await useReflectedTypes(loaded, root);
  return loaded;
}

/**
 * Imports `files` through one generated module that re-exports each of them: Node then resolves,
 * links and runs the whole graph in one go, a fifth cheaper than a thousand `import()`s one after
 * another, in the same order and with the same module instances. When one fails, undefined: the
 * caller imports them one by one, which names the file that failed as before.
 */
async function importTogether(files: string[]): Promise<Array<Record<string, unknown>> | undefined> {
  if (files.length < 2) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tributary-models-'));
  try {
    const entry = join(dir, 'models.mjs');
    writeFileSync(entry, files.map((file, i) => `export * as m${i} from ${JSON.stringify(pathToFileURL(file).href)};\n`).join(''));
    const all = await import(pathToFileURL(entry).href);
    return files.map((_, i) => all[`m${i}`]);
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The options that give MikroORM these entities: the schemas and classes themselves, and the
 * metadata provider decorated classes need (as the app's own MikroORM config would set it).
 */
export function discoveryOptions(entities: LoadedEntity[]): { entities: LoadedEntity['entity'][]; metadataProvider?: typeof MetadataProvider } {
  const metadataProvider = entities.find((e) => e.metadataProvider)?.metadataProvider;
  return { entities: entities.map((e) => e.entity), ...(metadataProvider ? { metadataProvider } : {}) };
}

function asEntity(value: unknown): Pick<LoadedEntity, 'entity' | 'schema'> | undefined {
  if (value instanceof EntitySchema) return { entity: value, schema: value };
  if (typeof value !== 'function') return undefined;
  // `class User extends UserSchema.class {}` + `UserSchema.setClass(User)`: the schema is the entity.
  const registered = EntitySchema.REGISTRY.get(value);
  if (registered) return { entity: registered, schema: registered };
  const meta = decoratorMetadata(value);
  if (!meta || !(meta.name || meta.abstract)) return undefined; // a base class without @Entity(): MikroORM finds it through its children
  return { entity: value as EntityClass, schema: schemaOver(value as EntityClass, meta) };
}

/** What `@Entity()` and the property decorators recorded on the class itself (not inherited). */
function decoratorMetadata(cls: Function): EntityMetadata | undefined {
  return Object.hasOwn(cls, MetadataStorage.META_SYMBOL) ? (cls as any)[MetadataStorage.META_SYMBOL] : undefined;
}

/** A read-only view of a decorated class as an `EntitySchema`, as MikroORM's discovery builds it. */
function schemaOver(cls: EntityClass, meta: EntityMetadata): EntitySchema<any, any> {
  const copy = { ...meta, properties: { ...meta.properties } } as EntityMetadata;
  copy.abstract ??= !meta.name;
  const schema = EntitySchema.fromMetadata(copy);
  schema.setClass(cls as any); // internal: not registered as the class's schema
  return schema;
}

/**
 * Legacy-decorated classes compiled with decorator metadata leave property types to
 * `reflect-metadata`; MikroORM reads them through `@mikro-orm/decorators/legacy`'s
 * ReflectMetadataProvider, taken from the workspace that uses it.
 */
async function useReflectedTypes(entities: LoadedEntity[], root: string): Promise<void> {
  const reflected = entities.find((e) => typeof e.entity === 'function' && hasDesignTypes(e.entity));
  if (!reflected) return;
  const { createRequire } = await import('node:module');
  let provider: typeof MetadataProvider;
  try {
    const path = createRequire(reflected.file).resolve('@mikro-orm/decorators/legacy');
    provider = (await import(pathToFileURL(path).href)).ReflectMetadataProvider;
  } catch (error) {
    throw new TributaryError(`Service ${reflected.service.name}: ${relative(root, reflected.file)} has decorated entities whose types come from reflect-metadata, but @mikro-orm/decorators/legacy could not be loaded from there: ${describeError(error)}`, { cause: error });
  }
  for (const entity of entities) entity.metadataProvider = provider;
}

/** Whether some decorated property of the class (or a base class) has an emitted `design:type`. */
function hasDesignTypes(cls: Function): boolean {
  const reflect = Reflect as unknown as { getOwnMetadata?(key: string, target: object, property: string): unknown };
  if (typeof reflect.getOwnMetadata !== 'function') return false;
  for (let current = cls; current && current !== Function.prototype; current = Object.getPrototypeOf(current)) {
    const meta = decoratorMetadata(current);
    if (meta && Object.keys(meta.properties ?? {}).some((name) => reflect.getOwnMetadata!('design:type', current.prototype, name) !== undefined)) return true;
  }
  return false;
}
