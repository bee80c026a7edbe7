/**
 * Imports one migration file and validates what the contract asks of it: exactly one exported
 * class extending MikroORM's `Migration`, an `up()`, and static metadata that agrees with the
 * file name (`service`, `dependsOn`, `transactional`, `irreversible`, `emptyDown`, `allow`).
 */
import { pathToFileURL } from 'node:url';
import { relative } from 'node:path';
import { Migration } from '@mikro-orm/migrations';
import { TributaryError, describeError } from '../errors.ts';
import type { StreamEntry } from './stream.ts';

export type MigrationClass = (new (...args: ConstructorParameters<typeof Migration>) => Migration) & {
  service?: string;
  dependsOn?: string[];
  transactional?: boolean;
  irreversible?: boolean;
  /** The author's word that down() rightly does nothing (rollback then only un-records it). */
  emptyDown?: boolean;
  allow?: Array<string | { rule: string; reason?: string }>;
  lockTimeout?: string;
  statementTimeout?: string;
};

export interface MigrationDefinition {
  entry: StreamEntry;
  migrationClass: MigrationClass;
  dependsOn: string[];
  transactional: boolean;
  irreversible: boolean;
  lockTimeout: string | undefined;
  statementTimeout: string | undefined;
}

export async function loadMigration(entry: StreamEntry, root: string): Promise<MigrationDefinition> {
  const where = relative(root, entry.file);
  let exports: Record<string, unknown>;
  try {
    exports = await import(`${pathToFileURL(entry.file).href}?checksum=${entry.checksum}`);
  } catch (error) {
    throw new TributaryError(`Migration ${where} failed to load: ${describeError(error)}`, { cause: error });
  }
  const classes = Object.values(exports).filter(
    (value): value is MigrationClass => typeof value === 'function' && value.prototype instanceof Migration,
  );
  if (classes.length !== 1) {
    throw new TributaryError(`Migration ${where} must export exactly one class extending Migration from @mikro-orm/migrations (found ${classes.length}).`);
  }
  const migrationClass = classes[0]!;
  if (migrationClass.prototype.up === Migration.prototype.up || typeof migrationClass.prototype.up !== 'function') {
    throw new TributaryError(`Migration ${where}: class ${migrationClass.name} has no up() method.`);
  }
  if (migrationClass.service !== undefined && migrationClass.service !== entry.service) {
    throw new TributaryError(`Migration ${where} declares service "${migrationClass.service}" but its file name says "${entry.service}".`);
  }
  const dependsOn = migrationClass.dependsOn ?? [];
  if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string')) {
    throw new TributaryError(`Migration ${where}: static dependsOn must be an array of migration names.`);
  }
  return {
    entry,
    migrationClass,
    dependsOn: dependsOn.map((d) => d.replace(/\.ts$/, '')),
    transactional: migrationClass.transactional ?? true,
    irreversible: migrationClass.irreversible ?? false,
    lockTimeout: migrationClass.lockTimeout,
    statementTimeout: migrationClass.statementTimeout,
  };
}

/** Whether the class defines down() itself (MikroORM's inherited one only throws). */
export function hasDown(definition: MigrationDefinition): boolean {
  return definition.migrationClass.prototype.down !== Migration.prototype.down;
}
