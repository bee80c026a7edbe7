/**
 * Finds the workspace root and resolves Tributary's settings: defaults, overridden by
 * `tributary.config.json` at the root, overridden by the environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { maskUrl, redactSecrets } from '../db/urls.ts';
import { TributaryError } from '../errors.ts';

export interface TributaryConfig {
  /** Absolute path of the workspace root (the folder holding nx.json or the root package.json). */
  root: string;
  /** Absolute path of the stream folder. */
  migrationsDir: string;
  /** Absolute path of the folder holding the per-service snapshot shards. */
  snapshotsDir: string;
  /** Glob patterns (relative to root) of folders that may be services. */
  projects: string[];
  historySchema: string;
  historyTable: string;
  /** PostgreSQL connection string; undefined selects the embedded PGlite database. */
  databaseUrl: string | undefined;
  /** Where `databaseUrl` came from, for messages: `DATABASE_URL`, `MIGRATION_DATABASE_URL` or `the databaseUrl option`. */
  databaseUrlSource: string;
  /** `MIGRATION_DATABASE_URL`: the direct connection (and DDL role) of the commands that change the schema. */
  migrationDatabaseUrl: string | undefined;
  pgliteDir: string;
  lockWaitSeconds: number;
  lockTimeout: string;
  statementTimeout: string | undefined;
  lockRetries: number;
  /** Dump the database to `.data/backups/` before every migrate run that applies something. */
  backupBeforeMigrate: boolean;
  /** Named groups of target databases for `--targets GROUP` (checked when one is used: targets/target-list.ts). */
  targets: Record<string, unknown>;
}

export const CONFIG_FILE = 'tributary.config.json';

type FileSettings = Partial<{
  migrationsDir: string;
  projects: string[];
  historyTable: string;
  pgliteDir: string;
  lockWaitSeconds: number;
  lockTimeout: string;
  statementTimeout: string;
  lockRetries: number;
  backupBeforeMigrate: boolean;
  targets: Record<string, unknown>;
}>;

export function findWorkspaceRoot(start: string): string {
  let dir = resolve(start);
  let packageRoot: string | undefined;
  for (;;) {
    if (existsSync(join(dir, 'nx.json')) || existsSync(join(dir, CONFIG_FILE))) return dir;
    if (!packageRoot && existsSync(join(dir, 'package.json'))) packageRoot = dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (packageRoot) return packageRoot;
  throw new TributaryError(`No workspace found from ${start}: expected nx.json, ${CONFIG_FILE} or package.json in it or a parent folder.`);
}

/** What each setting of the config file must be, so a typo or a wrong type is named, not ignored. */
const SETTING_KINDS: Record<keyof FileSettings, 'string' | 'string[]' | 'count' | 'boolean' | 'object'> = {
  migrationsDir: 'string',
  projects: 'string[]',
  historyTable: 'string',
  pgliteDir: 'string',
  lockWaitSeconds: 'count',
  lockTimeout: 'string',
  statementTimeout: 'string',
  lockRetries: 'count',
  backupBeforeMigrate: 'boolean',
  targets: 'object',
};

const KIND_WORDS = { string: 'a string', 'string[]': 'an array of strings', count: 'a whole number of at least 0', boolean: 'true or false', object: 'an object' } as const;

function readSettings(root: string): FileSettings {
  const file = join(root, CONFIG_FILE);
  if (!existsSync(file)) return {};
  let settings: unknown;
  try {
    settings = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TributaryError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) throw new TributaryError(`${CONFIG_FILE} must hold a JSON object of settings.`);
  for (const [key, value] of Object.entries(settings)) {
    const kind = SETTING_KINDS[key as keyof FileSettings];
    if (!kind) throw new TributaryError(`Unknown setting "${key}" in ${CONFIG_FILE} (known: ${Object.keys(SETTING_KINDS).join(', ')}).`);
    const ok =
      kind === 'string[]' ? Array.isArray(value) && value.every((v) => typeof v === 'string')
      : kind === 'count' ? Number.isInteger(value) && (value as number) >= 0
      : kind === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value)
      : typeof value === kind;
    if (!ok) throw new TributaryError(`${key} in ${CONFIG_FILE} must be ${KIND_WORDS[kind]} (got ${JSON.stringify(value)}).`);
  }
  return settings as FileSettings;
}

export function loadConfig(options: { cwd?: string; databaseUrl?: string } = {}): TributaryConfig {
  const root = findWorkspaceRoot(options.cwd ?? process.cwd());
  const settings = readSettings(root);
  const [historySchema, historyTable] = splitQualified(settings.historyTable ?? 'public.tributary_migrations');
  for (const key of ['lockTimeout', 'statementTimeout'] as const) {
    const value = settings[key];
    if (value !== undefined && !DURATION.test(value.trim())) throw new TributaryError(`${key} "${value}" in ${CONFIG_FILE} is not a duration like 5s, 500ms or 2min.`);
  }
  // An explicit URL is the one database of every command; otherwise migrations may have their own.
  const explicit = options.databaseUrl !== undefined;
  const migrationsDir = resolve(root, settings.migrationsDir ?? 'migrations');
  return {
    root,
    migrationsDir,
    snapshotsDir: join(migrationsDir, '.snapshots'),
    projects: settings.projects ?? ['apps/*', 'libs/*', 'packages/*', 'services/*'],
    historySchema,
    historyTable,
    databaseUrl: explicit ? options.databaseUrl : process.env.DATABASE_URL || undefined,
    databaseUrlSource: explicit ? 'the databaseUrl option' : 'DATABASE_URL',
    migrationDatabaseUrl: explicit ? undefined : process.env.MIGRATION_DATABASE_URL || undefined,
    pgliteDir: resolve(root, settings.pgliteDir ?? '.data/pglite'),
    lockWaitSeconds: settings.lockWaitSeconds ?? 60,
    lockTimeout: settings.lockTimeout?.trim() ?? '5s',
    statementTimeout: settings.statementTimeout?.trim(),
    lockRetries: settings.lockRetries ?? 0,
    backupBeforeMigrate: settings.backupBeforeMigrate ?? false,
    targets: settings.targets ?? {},
  };
}

/**
 * The settings of the commands that change the schema (migrate, rollback, stamp, repair, restore,
 * auto-migrate): the same, on `MIGRATION_DATABASE_URL` when it is set.
 */
export function forMigrations(config: TributaryConfig): TributaryConfig {
  if (!config.migrationDatabaseUrl) return config;
  return { ...config, databaseUrl: config.migrationDatabaseUrl, databaseUrlSource: 'MIGRATION_DATABASE_URL' };
}

/** The resolved settings as `migrate config` prints them: database URLs with the password masked. */
export function printableConfig(config: TributaryConfig): TributaryConfig {
  const mask = (url: string | undefined) => (url === undefined ? undefined : maskUrl(url));
  const targets = JSON.parse(redactSecrets(JSON.stringify(config.targets))) as TributaryConfig['targets'];
  return { ...config, databaseUrl: mask(config.databaseUrl), migrationDatabaseUrl: mask(config.migrationDatabaseUrl), targets };
}

/** A PostgreSQL duration, as `lock_timeout` and `statement_timeout` take it (5s, 500ms, 2min). */
export const DURATION = /^\d+(\.\d+)?\s*(us|ms|s|min|h|d)?$/;

/**
 * An unquoted PostgreSQL identifier: the history table's schema and name are spliced into SQL
 * (quoted), so anything else, a quote in particular, is refused rather than escaped.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

function splitQualified(name: string): [string, string] {
  const parts = name.split('.');
  const [schema, table] = parts.length === 1 ? ['public', parts[0]!] : parts;
  if (parts.length > 2 || !schema || !table) throw new TributaryError(`historyTable "${name}" in ${CONFIG_FILE} must be "table" or "schema.table".`);
  for (const part of [schema, table]) {
    if (!IDENTIFIER.test(part)) {
      throw new TributaryError(`historyTable "${name}" in ${CONFIG_FILE} must name its schema and table with letters, digits, _ or $ (starting with a letter or _, at most 63 characters each).`);
    }
  }
  return [schema, table];
}
