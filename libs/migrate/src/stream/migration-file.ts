/**
 * Imports one migration file and validates what the contract asks of it: exactly one exported
 * class extending MikroORM's `Migration`, an `up()`, and static metadata that agrees with the
 * file name (`service`, `dependsOn`, `transactional`, `irreversible`, `emptyDown`, `allow`,
 * `replaces`).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { relative } from 'node:path';
import type { Migration } from '@mikro-orm/migrations';
import { migrations } from '../db/orm-modules.ts';
import type { TributaryConfig } from '../config/config.ts';
import { discoverServices } from '../config/services.ts';
import { TributaryError, describeError } from '../errors.ts';
import { readRenderedMigration, type RenderedMigration } from '../diff/writer.ts';
import { checksumOf, takeBytesRead, type StreamEntry } from './stream.ts';
import { ValidatedFiles } from './validated-files.ts';
import { enableTypeScriptHooks } from '../models/typescript-hooks.ts';

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
  /** A squash: the names of the migrations of its service it stands for. */
  replaces?: string[];
};

/** A file of the stream that cannot be loaded as a migration: the message names it and says why. */
export class InvalidMigrationFile extends TributaryError {}

export interface MigrationDefinition {
  entry: StreamEntry;
  migrationClass: MigrationClass;
  dependsOn: string[];
  transactional: boolean;
  irreversible: boolean;
  /** The author's word that down() rightly does nothing (`static emptyDown = true`). */
  emptyDown?: boolean;
  lockTimeout: string | undefined;
  statementTimeout: string | undefined;
  /** A squash this database records without running: every migration it replaces is applied (or is about to be). */
  recordOnly?: boolean;
  /**
   * The SQL up() and down() add, known without running them: the file has exactly the shape the
   * writer renders (plain `addSql` calls), so it was read, not imported.
   */
  sql?: { up: string[]; down: string[] };
}

/**
 * A file of the writer's shape is read instead of imported: importing it could only give the
 * class built here (same statics, up()/down() adding the same SQL), and reading costs a
 * fraction of an import — what keeps applying thousands of generated migrations fast.
 */
function readRendered(entry: StreamEntry): MigrationDefinition | undefined {
  if (entry.replaces?.length) return undefined; // a squash is imported: its static replaces is validated there
  // The bytes the stream was read from (their checksum is the entry's), or the file as it is now.
  let bytes = takeBytesRead(entry);
  if (!bytes) {
    try {
      bytes = readFileSync(entry.file);
    } catch {
      return undefined; // the import says what is wrong
    }
    if (checksumOf(bytes) !== entry.checksum) return undefined; // changed since the stream was read: import what is there now
  }
  return renderedDefinition(entry, bytes.toString('utf8'));
}

/** A migration of the writer's shape from its source, file or not (makemigrations lints what it is about to write); undefined for any other shape. */
export function renderedDefinition(entry: StreamEntry, source: string): MigrationDefinition | undefined {
  const rendered = readRenderedMigration(source, entry.service);
  if (!rendered) return undefined;
  let migrationClass: MigrationClass | undefined;
  return {
    entry,
    // Built when first asked for: a pipelined migration never is, and then MikroORM need not load.
    get migrationClass() {
      return (migrationClass ??= renderedClass(entry, rendered));
    },
    dependsOn: rendered.dependsOn,
    transactional: true,
    irreversible: rendered.irreversible,
    emptyDown: rendered.emptyDown,
    lockTimeout: undefined,
    statementTimeout: undefined,
    sql: { up: rendered.up, down: rendered.down },
  };
}

function renderedClass(entry: StreamEntry, rendered: RenderedMigration): MigrationClass {
  const { up, down } = rendered;
  const statics: Partial<MigrationClass> & { takesOwnership?: string[] } = { service: entry.service, dependsOn: rendered.dependsOn, transactional: true };
  if (rendered.irreversible) statics.irreversible = true;
  if (rendered.emptyDown) statics.emptyDown = true;
  if (rendered.takesOwnership) statics.takesOwnership = rendered.takesOwnership;
  const migrationClass = class extends migrations().Migration {
    override async up(): Promise<void> {
      for (const sql of up) this.addSql(sql);
    }

    override async down(): Promise<void> {
      for (const sql of down) this.addSql(sql);
    }
  };
  Object.defineProperty(migrationClass, 'name', { value: `Migration${entry.name.split(/[_-]/).map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('')}` });
  return Object.assign(migrationClass, statics);
}

export async function loadMigration(entry: StreamEntry, root: string): Promise<MigrationDefinition> {
  const rendered = readRendered(entry);
  if (rendered) return rendered;
  const where = relative(root, entry.file);
  enableTypeScriptHooks(); // a migration may import decorated entities
  const { Migration } = migrations();
  let exports: Record<string, unknown>;
  try {
    exports = await import(`${pathToFileURL(entry.file).href}?checksum=${entry.checksum}`);
  } catch (error) {
    // Where in the file, as a model file's failure says it (loaded only on this path).
    const at = (await import('../models/load-failure.ts')).failurePosition(error, root);
    const position = at?.line && at.file === realpathSync(entry.file) ? `:${at.line}${at.column ? `:${at.column}` : ''}` : '';
    throw new InvalidMigrationFile(`Migration ${where}${position} failed to load: ${describeError(error)}`, { cause: error });
  }
  const classes = Object.values(exports).filter(
    (value): value is MigrationClass => typeof value === 'function' && value.prototype instanceof Migration,
  );
  if (classes.length !== 1) {
    throw new InvalidMigrationFile(`Migration ${where} must export exactly one class extending Migration from @mikro-orm/migrations (found ${classes.length}).`);
  }
  const migrationClass = classes[0]!;
  if (migrationClass.prototype.up === Migration.prototype.up || typeof migrationClass.prototype.up !== 'function') {
    throw new InvalidMigrationFile(`Migration ${where}: class ${migrationClass.name} has no up() method.`);
  }
  if (migrationClass.service !== undefined && migrationClass.service !== entry.service) {
    throw new InvalidMigrationFile(`Migration ${where} declares service "${migrationClass.service}" but its file name says "${entry.service}".`);
  }
  const dependsOn = migrationClass.dependsOn ?? [];
  if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string')) {
    throw new InvalidMigrationFile(`Migration ${where}: static dependsOn must be an array of migration names.`);
  }
  const replaces = migrationClass.replaces ?? [];
  const listed = entry.replaces ?? [];
  if (!Array.isArray(replaces) || replaces.length !== listed.length || replaces.some((name, i) => typeof name !== 'string' || name.replace(/\.ts$/, '') !== listed[i])) {
    throw new InvalidMigrationFile(`Migration ${where}: static replaces must be a literal array of migration names (['20261123_130022_${entry.service}_initial', …]), written in the file as it is read.`);
  }
  const foreign = listed.find((name) => !name.startsWith(`${name.slice(0, 15)}_${entry.service}_`));
  if (foreign) throw new InvalidMigrationFile(`Migration ${where} replaces ${foreign}, which is not a migration of ${entry.service}; a squash replaces migrations of its own service.`);
  return {
    entry,
    migrationClass,
    dependsOn: dependsOn.map((d) => d.replace(/\.ts$/, '')),
    transactional: migrationClass.transactional ?? true,
    irreversible: migrationClass.irreversible ?? false,
    emptyDown: migrationClass.emptyDown === true,
    lockTimeout: migrationClass.lockTimeout,
    statementTimeout: migrationClass.statementTimeout,
  };
}

/** Whether the class defines down() itself (MikroORM's inherited one only throws). */
export function hasDown(definition: MigrationDefinition): boolean {
  return definition.migrationClass.prototype.down !== migrations().Migration.prototype.down;
}

/** The sentence for a migration whose service (file name and `static service`) the workspace does not have. */
function unknownServiceMessage(entry: StreamEntry, services: string[], root: string): string | undefined {
  if (services.includes(entry.service)) return undefined;
  return `Migration ${relative(root, entry.file)} belongs to service "${entry.service}", which is not a service of this workspace (services: ${services.join(', ')}); name one of them in its file name and static service.`;
}

/**
 * Refuses to run a migration of a service the workspace does not have. Where no service folder is
 * present at all (a deploy artifact without the models), there is nothing to check against.
 */
export function refuseUnknownServices(config: TributaryConfig, entries: StreamEntry[]): void {
  let services: string[];
  try {
    services = discoverServices(config).map((s) => s.name);
  } catch {
    return; // a broken workspace is reported by the commands that read the models
  }
  if (services.length === 0) return;
  for (const entry of entries) {
    const message = unknownServiceMessage(entry, services, config.root);
    if (message) throw new InvalidMigrationFile(message);
  }
}

export interface ValidationOptions {
  root: string;
  /** The workspace's services; a file of another service is invalid. Undefined: not checked. */
  services: string[] | undefined;
  /** The whole stream (what the remembered checksums are pruned to). */
  stream: StreamEntry[];
  /** Cheaply known valid without importing (a file exactly as the writer renders it). */
  knownValid?: (entry: StreamEntry) => boolean;
}

/**
 * Loads and validates each file (its service must be one of `services`, when given), and says
 * what is wrong with those that fail. Files that passed before (same checksum, same rules), or
 * that are `knownValid`, are not imported, so a check over thousands of migrations stays fast.
 */
export async function invalidMigrationFiles(entries: StreamEntry[], options: ValidationOptions): Promise<Array<{ entry: StreamEntry; message: string }>> {
  const { root, services } = options;
  const validated = ValidatedFiles.open(root);
  const invalid: Array<{ entry: StreamEntry; message: string }> = [];
  for (const entry of entries) {
    const unknown = services && unknownServiceMessage(entry, services, root);
    if (unknown) {
      invalid.push({ entry, message: unknown });
      continue;
    }
    if (validated.has(entry.checksum)) continue;
    try {
      if (!options.knownValid?.(entry)) await loadMigration(entry, root);
      validated.add(entry.checksum);
    } catch (error) {
      invalid.push({ entry, message: describeError(error) });
    }
  }
  validated.save(options.stream.map((e) => e.checksum));
  return invalid;
}
