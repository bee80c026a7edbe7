/**
 * Turns the loaded entities into MikroORM metadata (offline: no connection is opened) and
 * answers, for every table, which service owns it. Two services mapping one table is an error.
 */
import { relative } from 'node:path';
import { MetadataDiscovery, ReferenceKind, UnderscoreNamingStrategy, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import { MikroORM } from '@mikro-orm/postgresql';
import { TributaryError, describeError } from '../errors.ts';
import { discoveryOptions, type LoadedEntity } from './loader.ts';

/**
 * A MikroORM that never makes an entity: it skips decorating the entity classes' prototypes with
 * MikroORM's helpers (a quarter of discovering 1,000 entities), which also leaves classes an app
 * shares with it as the app's own ORM decorated them.
 */
class MetadataOnlyOrm extends MikroORM {}
(MetadataOnlyOrm.prototype as unknown as { createEntityManager(this: MikroORM): void }).createEntityManager = function (this: MikroORM) {
  // MikroORM's own createEntityManager, without `metadata.decorate(em)`.
  this.driver.setMetadata(this.getMetadata());
  this.em = this.driver.createEntityManager() as MikroORM['em'];
  (this.em as { global: boolean }).global = true;
};

type Referencing = { meta: EntityMetadata; prop: EntityProperty };
type FindReferencing = (this: MetadataDiscovery, meta: EntityMetadata, metadata: EntityMetadata[]) => void;

/**
 * MikroORM's `findReferencingProperties`, which discovery calls once per entity with the same
 * list of every entity and scans all their relations each time (a seventh of discovering 1,000
 * entities), answered from an index of that list built on its first call: the same entries, in
 * the same order, as new objects.
 */
function indexedFindReferencing(): FindReferencing {
  const indexes = new WeakMap<EntityMetadata[], Map<string, Referencing[]>>();
  return function (meta, metadata) {
    let byType = indexes.get(metadata);
    if (!byType) {
      byType = new Map();
      for (const meta2 of metadata) {
        for (const prop2 of meta2.relations) {
          if (prop2.kind === ReferenceKind.SCALAR) continue;
          const list = byType.get(prop2.type) ?? [];
          list.push({ meta: meta2, prop: prop2 });
          byType.set(prop2.type, list);
        }
      }
      indexes.set(metadata, byType);
    }
    for (const { meta: meta2, prop } of byType.get(meta.className) ?? []) meta.referencingProperties.push({ meta: meta2, prop });
  };
}

/** Discovers with the indexed `findReferencingProperties`, for this synchronous construction only (an app's own ORM is left alone). */
function withIndexedDiscovery<T>(construct: () => T): T {
  const prototype = MetadataDiscovery.prototype as unknown as { findReferencingProperties: FindReferencing };
  const original = prototype.findReferencingProperties;
  prototype.findReferencingProperties = indexedFindReferencing();
  try {
    return construct();
  } finally {
    prototype.findReferencingProperties = original;
  }
}

export interface ModelSet {
  /** A MikroORM instance used for metadata and SQL generation only (its own, never connected, or one borrowed from an app). */
  orm: MikroORM;
  /** Qualified table name (`schema.table`, `public` when the entity names none) → owning service name. */
  owners: Map<string, string>;
  /** Qualified table name → the model file that maps it, relative to the workspace root. */
  ownerFile: Map<string, string>;
  /** Qualified table name → the entity that maps it (the root of its hierarchy). */
  ownerEntity: Map<string, string>;
  /** The entity metadata of one service's tables. */
  metadataOf(service: string): EntityMetadata[];
  close(): Promise<void>;
}

/**
 * `reuse`: an ORM that has already discovered exactly these entities (an app checking itself at
 * boot) lends its metadata instead of a second discovery, the costly part; it is left open.
 */
export function buildModelSet(entities: LoadedEntity[], root: string, reuse?: MikroORM): ModelSet {
  const byClass = new Map<string, LoadedEntity>();
  for (const entity of entities) {
    const name = entity.schema.meta.className;
    const earlier = byClass.get(name);
    if (earlier) {
      throw new TributaryError(`Two entities are named ${name}: ${relative(root, earlier.file)} (${earlier.service.name}) and ${relative(root, entity.file)} (${entity.service.name}); entity names must be unique in the workspace.`);
    }
    byClass.set(name, entity);
  }

  assertOneOwnerPerTable(entities, root);
  const borrowed = reuse && discoveredAll(reuse, entities) ? reuse : undefined;
  let orm: MikroORM;
  try {
    orm = borrowed ?? withIndexedDiscovery(() => new MetadataOnlyOrm({
      ...discoveryOptions(entities),
      dbName: 'tributary_offline',
      discovery: { warnWhenNoEntities: false },
      allowGlobalContext: true,
    }));
  } catch (error) {
    throw new TributaryError(`The models could not be compiled by MikroORM: ${describeError(error)}`, { cause: error });
  }

  const owners = new Map<string, string>();
  const ownerFile = new Map<string, string>();
  const ownerEntity = new Map<string, string>();
  const byService = new Map<string, EntityMetadata[]>();
  const all = [...orm.getMetadata().getAll().values()];
  for (const meta of tableMetadata(all)) {
    const owningSide = ownerOf(meta, byClass, all);
    if (!owningSide) continue;
    const table = qualified(meta);
    const earlier = owners.get(table);
    if (earlier && earlier !== owningSide.service.name) {
      throw new TributaryError(`Table "${table}" is mapped by two services: ${earlier} (${ownerFile.get(table)}) and ${owningSide.service.name} (${relative(root, owningSide.file)}); every table must belong to exactly one service.`);
    }
    if (earlier) continue;
    owners.set(table, owningSide.service.name);
    ownerFile.set(table, relative(root, owningSide.file));
    ownerEntity.set(table, meta.className);
    const list = byService.get(owningSide.service.name) ?? [];
    list.push(meta);
    byService.set(owningSide.service.name, list);
  }

  return {
    orm,
    owners,
    ownerFile,
    ownerEntity,
    metadataOf: (service) => byService.get(service) ?? [],
    close: async () => {
      if (!borrowed) await orm.close();
    },
  };
}

/** Whether `orm` knows every one of `entities` and nothing else (then its metadata is theirs). */
function discoveredAll(orm: MikroORM, entities: LoadedEntity[]): boolean {
  const known = new Set([...orm.getMetadata().getAll().values()].filter((meta) => !meta.pivotTable).map((meta) => meta.className));
  return known.size === new Set(entities.map((e) => e.schema.meta.className)).size && entities.every((e) => known.has(e.schema.meta.className));
}

/**
 * MikroORM itself rejects duplicate table names without saying where they come from; check
 * first so the error names both services and files.
 */
function assertOneOwnerPerTable(entities: LoadedEntity[], root: string): void {
  const naming = new UnderscoreNamingStrategy();
  const seen = new Map<string, LoadedEntity>();
  for (const entity of entities) {
    const meta = entity.schema.meta;
    if (meta.embeddable || meta.abstract || meta.virtual || (meta as any).extends) continue;
    const table = qualified({ tableName: meta.tableName ?? meta.collection ?? naming.classToTableName(meta.className), schema: meta.schema });
    const earlier = seen.get(table);
    if (earlier && earlier.service !== entity.service) {
      throw new TributaryError(`Table "${table}" is mapped by two services: ${earlier.service.name} (${relative(root, earlier.file)}) and ${entity.service.name} (${relative(root, entity.file)}); every table must belong to exactly one service.`);
    }
    seen.set(table, entity);
  }
}

/** A table's key everywhere in Tributary: `schema.table`, with `public` when none is named. */
export function qualified(meta: { tableName: string; schema?: string }): string {
  return `${meta.schema ?? 'public'}.${meta.tableName}`;
}

/**
 * The metadata that has a table of its own, chosen as MikroORM's SchemaGenerator chooses it: the
 * root of each hierarchy (an abstract single-table-inheritance root included: its metadata holds
 * every child's columns) and the children of table-per-type inheritance; never embeddables,
 * virtual entities, views, or entities of the wildcard schema.
 */
function tableMetadata(all: EntityMetadata[]): EntityMetadata[] {
  return all.filter((meta) => {
    const ownTable = meta.root.class === meta.class || (meta.inheritanceType === 'tpt' && meta.tptParent);
    return ownTable && meta.tableName && !meta.embeddable && !meta.virtual && !meta.view && meta.schema !== '*';
  });
}

/** The exported entity that decides a table's service: the entity itself, else an exported member of its hierarchy, else (a pivot table) the owning side. */
function ownerOf(meta: EntityMetadata, byClass: Map<string, LoadedEntity>, all: EntityMetadata[]): LoadedEntity | undefined {
  const own = byClass.get(meta.className);
  if (own) return own;
  const member = all.find((other) => other.root === meta && byClass.has(other.className));
  return member ? byClass.get(member.className) : pivotOwner(meta, byClass);
}

function pivotOwner(meta: EntityMetadata, byClass: Map<string, LoadedEntity>): LoadedEntity | undefined {
  if (!meta.pivotTable) return undefined;
  for (const prop of meta.relations) {
    const owner = byClass.get(prop.targetMeta?.className ?? prop.type);
    if (owner) return owner;
  }
  return undefined;
}

