/**
 * The library API that the CLI, the Nx executors and the boot check share: each verb resolves
 * the workspace, opens what it needs (models, stream, database), does one job and closes.
 */
import { resolve } from 'node:path';
import { forMigrations, loadConfig, type TributaryConfig } from './config/config.ts';
import { discoverServices, selectServices } from './config/services.ts';
import { describeTarget, embeddedDatabaseExists, withDatabase, withEntitiesOnDemand, type Database, type OpenOptions } from './db/connection.ts';
import { History, type HistoryRow } from './db/history.ts';
import { withMigrationLock } from './db/lock.ts';
import type { MakeMigrationsOptions, MakeMigrationsResult } from './diff/makemigrations.ts';
import type { SquashOptions, SquashResult } from './diff/squash.ts';
import type { CheckOptions, CheckReport, Problem } from './checks/check.ts';
import { migrate as applyPending, type MigrateEvents, type MigrateOptions, type MigrateResult } from './executor/migrate.ts';
import type { RollbackEvents, RollbackOptions } from './executor/rollback.ts';
import type { RepairResult } from './executor/maintenance.ts';
import { compareStreamWithHistory, type MigrationStatus } from './executor/status.ts';
import { integrityProblems } from './executor/integrity.ts';
import { findEntry, readStream, type StreamEntry } from './stream/stream.ts';
import { withOneStreamRead } from './stream/stream-cache.ts';
import { collectSql, sqlReader } from './executor/sql-reader.ts';
import { loadMigration } from './stream/migration-file.ts';
import { lintMigrations, type LintReport } from './checks/lint.ts';
import type { FanOutOptions, MigrateTargetsResult } from './targets/fan-out.ts';
import type { TargetList } from './targets/target-list.ts';
import { TributaryError } from './errors.ts';
import { databasePart, databasePartInWorker } from './checks/database-worker.ts';
import type { MigrationsPage } from './render/migrations-page.ts';
import type { DriftReport } from './checks/drift.ts';
import type { PlanReport } from './checks/plan.ts';

// The verbs that need the models or MikroORM's schema tools import them when they run: `migrate`,
// `showmigrations` and the like never load them (several hundred modules of start-up).
const checks = () => import('./checks/check.ts');
const models = () => import('./models/index.ts');
const overview = () => import('./render/migrations-page.ts');
const planning = () => import('./checks/plan.ts');
const backups = () => import('./db/backup.ts');
const fanOut = () => import('./targets/fan-out.ts');

export interface Target {
  /** Where to look for the workspace; defaults to the current directory. */
  cwd?: string;
  /** Overrides `DATABASE_URL`. */
  databaseUrl?: string;
  /** Told once which database a command uses. */
  onDatabase?: (label: string) => void;
}

function configOf(target: Target): TributaryConfig {
  return loadConfig({ cwd: target.cwd, databaseUrl: target.databaseUrl });
}

/** For verbs that change the schema: on MIGRATION_DATABASE_URL when set (the app and read-only verbs keep DATABASE_URL). */
function migrationConfigOf(target: Target): TributaryConfig {
  return forMigrations(configOf(target));
}

function open<T>(config: TributaryConfig, target: Target, fn: (db: Database) => Promise<T>, options: OpenOptions = {}): Promise<T> {
  target.onDatabase?.(describeTarget(config));
  return withDatabase(config, fn, options);
}

/**
 * For verbs that run migrations: data migrations get the entity manager with every service's
 * entities, loaded only if one asks for it; a dry run's database is read-only throughout.
 */
function openForMigrations<T>(config: TributaryConfig, target: Target, dryRun: boolean | undefined, fn: (db: Database) => Promise<T>): Promise<T> {
  return open(config, target, (db) => fn(withEntitiesOnDemand(db, async () => (await models()).workspaceEntities(config))), { readOnly: dryRun });
}

function checkServices(config: TributaryConfig, names: string[] | undefined): void {
  if (names?.length) selectServices(discoverServices(config), names);
}

export async function makemigrations(target: Target, options: MakeMigrationsOptions = {}): Promise<MakeMigrationsResult> {
  return (await import('./diff/makemigrations.ts')).makeMigrations(configOf(target), options);
}

/** Writes one migration that replaces a service's migrations up to `to` (Django's squashmigrations). No database needed. */
export async function squash(target: Target, options: SquashOptions): Promise<SquashResult> {
  return (await import('./diff/squash.ts')).squash(configOf(target), options);
}

export async function migrate(target: Target, options: MigrateOptions = {}, events: MigrateEvents = {}): Promise<MigrateResult> {
  const config = migrationConfigOf(target);
  checkServices(config, options.services);
  return openForMigrations(config, target, options.dryRun, (db) => applyPending(db, config, options, events));
}

export async function rollback(target: Target, options: RollbackOptions = {}, events: RollbackEvents = {}): Promise<{ reverted: string[] }> {
  const config = migrationConfigOf(target);
  checkServices(config, options.service ? [options.service] : undefined);
  return openForMigrations(config, target, options.dryRun, async (db) => (await import('./executor/rollback.ts')).rollback(db, config, options, events));
}

export interface ShowMigrationsResult {
  migrations: Array<{ name: string; service: string; applied: boolean; appliedAt: string | null; problem?: MigrationStatus['problem'] }>;
  applied: number;
  pending: number;
}

export async function showmigrations(target: Target, options: { services?: string[] } = {}): Promise<ShowMigrationsResult> {
  const config = configOf(target);
  checkServices(config, options.services);
  const rows = await open(config, target, (db) => new History(db, config).rows());
  const status = compareStreamWithHistory(readStream(config.migrationsDir), rows);
  const migrations = status.migrations
    .filter((m) => !options.services?.length || options.services.includes(m.service))
    .map((m) => ({ name: m.name, service: m.service, applied: m.applied, appliedAt: m.appliedAt?.toISOString() ?? null, ...(m.problem ? { problem: m.problem } : {}) }));
  return { migrations, applied: migrations.filter((m) => m.applied).length, pending: migrations.filter((m) => !m.applied).length };
}

export async function check(target: Target, options: CheckOptions & { offline?: boolean } = {}): Promise<CheckReport> {
  return withOneStreamRead(() => checkOnce(target, options)); // every part judges the same files
}

async function checkOnce(target: Target, options: CheckOptions & { offline?: boolean }): Promise<CheckReport> {
  const config = configOf(target);
  let database: CheckReport['database'];
  const notes: CheckReport['notes'] = [];
  let online: Promise<Problem[]> = Promise.resolve([]);
  if (options.offline) {
    database = { checked: false, target: null, note: 'offline: database not checked' };
  } else if (!config.databaseUrl && !embeddedDatabaseExists(config)) {
    database = { checked: false, target: null, note: 'no DATABASE_URL and no embedded database yet: database not checked' };
  } else {
    // At the same time as the models: on a server, in a worker thread (see database-worker.ts).
    target.onDatabase?.(describeTarget(config));
    online = (config.databaseUrl ? databasePartInWorker : databasePart)(config, options).then((part) => {
      notes.push(...part.notes);
      return part.problems;
    });
    database = { checked: true, target: describeTarget(config) };
  }
  const offline = (await checks()).checkOffline(config, options);
  const [offlineProblems, databaseProblems] = await Promise.all([offline, online]);
  const problems = [...offlineProblems, ...databaseProblems];
  return { ok: problems.length === 0, problems, warnings: (await checks()).checkWarnings(config, options), notes, database };
}

export async function history(target: Target): Promise<HistoryRow[]> {
  const config = configOf(target);
  const rows = await open(config, target, (db) => new History(db, config).rows());
  return rows.filter((r) => r.status === 'applied');
}

export async function current(target: Target): Promise<HistoryRow | null> {
  const rows = await history(target);
  return rows.at(-1) ?? null;
}

export async function validate(target: Target): Promise<{ ok: boolean; problems: string[] }> {
  const config = configOf(target);
  const rows = await open(config, target, (db) => new History(db, config).rows());
  const problems = integrityProblems(compareStreamWithHistory(readStream(config.migrationsDir), rows), config);
  return { ok: problems.length === 0, problems };
}

export async function repair(target: Target): Promise<RepairResult> {
  const config = migrationConfigOf(target);
  return open(config, target, async (db) => (await import('./executor/maintenance.ts')).repair(db, config));
}

export async function stamp(target: Target, name: string, events: Pick<MigrateEvents, 'confirm'> = {}): Promise<MigrateResult> {
  const config = migrationConfigOf(target);
  return open(config, target, async (db) => (await import('./executor/maintenance.ts')).stamp(db, config, name, events));
}

/** Refuses, before anything asks or connects, a backup file that is missing or not written by pg_dump. */
export async function checkBackup(target: Target, file: string): Promise<void> {
  (await backups()).readBackup(resolve(target.cwd ?? process.cwd(), file));
}

/** Restores a backup written by `migrate --backup`, under the migration lock. */
export async function restore(target: Target, file: string): Promise<{ file: string; database: string }> {
  const config = migrationConfigOf(target);
  const path = resolve(target.cwd ?? process.cwd(), file);
  return open(config, target, (db) =>
    withMigrationLock(db, new History(db, config).tableName, { waitSeconds: config.lockWaitSeconds }, async () => {
      await (await backups()).restoreDatabase(db, config, path);
      return { file: path, database: db.label };
    }),
  );
}

/** A migration's SQL (Django's sqlmigrate): what its up() (or down()) collects, read without a database. */
export async function sql(target: Target, name: string, options: { down?: boolean } = {}): Promise<{ name: string; direction: 'up' | 'down'; statements: string[]; directQueries: string[] }> {
  const config = configOf(target);
  const entry = findEntry(readStream(config.migrationsDir), name, 'sql');
  const direction = options.down ? 'down' : 'up';
  const collected = await collectSql(sqlReader(), await loadMigration(entry, config.root), direction);
  return { name: entry.name, direction, statements: collected.statements, directQueries: collected.directQueries };
}

export interface LintResult extends Omit<LintReport, 'harmless'> {
  /** Which migrations were linted and why. */
  scope: string;
}

/**
 * Lints the pending migrations (every migration when there is no database yet), or with `since`
 * the migration files added since that git revision (CI, no database needed).
 */
export async function lint(target: Target, options: { since?: string; strict?: boolean } = {}): Promise<LintResult> {
  const config = configOf(target);
  const stream = readStream(config.migrationsDir);
  let entries: StreamEntry[];
  let scope: string;
  if (options.since) {
    const added = new Set((await import('./checks/git.ts')).streamChangesSince(config.root, config.migrationsDir, options.since).added);
    entries = stream.filter((e) => added.has(e.name));
    scope = `migrations added since ${options.since}`;
  } else if (config.databaseUrl || embeddedDatabaseExists(config)) {
    const rows = await open(config, target, (db) => new History(db, config).rows());
    entries = compareStreamWithHistory(stream, rows).pending;
    scope = `pending migrations of ${describeTarget(config)}`;
  } else {
    entries = stream;
    scope = 'every migration (no DATABASE_URL and no embedded database yet)';
  }
  const definitions = [];
  for (const entry of entries) definitions.push(await loadMigration(entry, config.root));
  const { harmless: _, ...report } = await lintMigrations(definitions, config.root, { strict: options.strict }); // harmless: migrate's own shortcut
  return { scope, ...report };
}

export interface MigrateTargetsOptions extends FanOutOptions {
  /** A targets file or a group of tributary.config.json (`--targets`), or the URLs themselves. */
  targets: string | string[];
  /** Where to look for the workspace; defaults to the current directory. */
  cwd?: string;
  /** What `migrate` does on each target (services, to, fake, lock settings…). */
  migrate?: MigrateOptions;
}

/** The target URLs of `targets`, with where they came from. */
async function targetList(config: TributaryConfig, targets: string | string[], cwd: string | undefined): Promise<TargetList> {
  const lists = await import('./targets/target-list.ts');
  if (Array.isArray(targets)) return lists.checkedTargets('the targets option', targets);
  return lists.resolveTargets(targets, config, cwd);
}

/** The single-database verbs, on one target of a fan-out. */
const onTarget = (cwd: string | undefined, url: string): Target => ({ cwd, databaseUrl: url });

/** `migrate --targets`: every target to the head of the stream (targets/fan-out.ts). */
export async function migrateTargets(options: MigrateTargetsOptions): Promise<MigrateTargetsResult> {
  const config = configOf({ cwd: options.cwd });
  checkServices(config, options.migrate?.services);
  if (options.migrate?.dryRun || options.migrate?.backup) throw new TributaryError(`--${options.migrate.dryRun ? 'dry-run' : 'backup'} works on one database; it is not available with --targets.`);
  const { urls } = await targetList(config, options.targets, options.cwd);
  return (await fanOut()).migrateTargets(config, urls, (url, migrateOptions, events) => migrate(onTarget(options.cwd, url), migrateOptions, events), options);
}

export interface TargetsStatus {
  targets: Array<{ target: string; applied: number | null; pending: number | null; head: string | null; failed: string | null }>;
  atHead: number;
  behind: number;
  failed: number;
}

/** `showmigrations --targets`: per target, applied and pending counts and its newest applied migration. */
export async function showmigrationsTargets(options: { targets: string | string[]; cwd?: string; concurrency?: number; services?: string[] }): Promise<TargetsStatus> {
  const config = configOf({ cwd: options.cwd });
  checkServices(config, options.services);
  const { urls } = await targetList(config, options.targets, options.cwd);
  const surveyed = await (await fanOut()).surveyTargets(config, urls, options.concurrency ?? (await fanOut()).DEFAULT_CONCURRENCY, (url) => showmigrations(onTarget(options.cwd, url), { services: options.services }));
  // A target at the head has every migration of the stream applied: those of the services asked for, with --service.
  const atHeadApplied = options.services?.length ? readStream(config.migrationsDir).filter((e) => options.services!.includes(e.service)).length : undefined;
  const targets = surveyed.map(({ target, probe, detail, error }) => ({
    target,
    applied: error ? null : (detail?.applied ?? atHeadApplied ?? probe!.applied),
    pending: error ? null : (detail?.pending ?? 0),
    head: probe?.last ?? null,
    failed: error,
  }));
  const behind = targets.filter((t) => !t.failed && t.pending! > 0).length;
  const failed = targets.filter((t) => t.failed).length;
  return { targets, atHead: targets.length - behind - failed, behind, failed };
}

export interface TargetsCheckReport {
  ok: boolean;
  /** The workspace's own problems (models, stream), checked once. */
  problems: Problem[];
  targets: Array<{ target: string; ok: boolean; problems: Problem[]; error: string | null }>;
  /** Squashes every target is past: the files they replace can be deleted. */
  notes: Problem[];
  atHead: number;
  behind: number;
  failed: number;
}

/** `check --targets`: the offline check once, then each target's database part (pending, out of order, edited, failed). */
export async function checkTargets(options: CheckOptions & { targets: string | string[]; cwd?: string; concurrency?: number }): Promise<TargetsCheckReport> {
  const config = configOf({ cwd: options.cwd });
  const problems = await (await checks()).checkOffline(config, options);
  const { urls } = await targetList(config, options.targets, options.cwd);
  const surveyed = await (await fanOut()).surveyTargets(config, urls, options.concurrency ?? (await fanOut()).DEFAULT_CONCURRENCY, (url) => {
    const target = onTarget(options.cwd, url);
    const targetConfig = configOf(target);
    return open(targetConfig, target, async (db) => (await checks()).checkDatabasePart(db, targetConfig, options));
  });
  const targets = surveyed.map(({ target, detail, error }) => ({ target, ok: !error && !detail?.problems.length, problems: detail?.problems ?? [], error }));
  const failed = targets.filter((t) => t.error).length;
  const behind = targets.filter((t) => !t.error && !t.ok).length;
  // A target at the head (not inspected) has every migration of the stream applied, squashes included.
  const past = (squash: string) => failed === 0 && surveyed.every((t) => !t.detail || t.detail.notes.some((n) => n.migration === squash));
  const notes = (await checks()).replacedFileNotes(readStream(config.migrationsDir), past, 'Every target is', '', options);
  return { ok: problems.length === 0 && failed + behind === 0, problems, targets, notes, atHead: targets.length - behind - failed, behind, failed };
}

/**
 * The service graph and the stream's status for `migrate graph`: pending migrations are marked
 * when the database can be read; without one (or when it is unreachable) the picture still comes.
 */
export async function graph(target: Target): Promise<MigrationsPage & { note: string | null }> {
  const config = configOf(target);
  if (!config.databaseUrl && !embeddedDatabaseExists(config)) {
    return { ...(await (await overview()).migrationsOverview(config, undefined, null)), note: 'no DATABASE_URL and no embedded database yet: pending migrations not marked' };
  }
  try {
    const rows = await open(config, target, (db) => new History(db, config).rows());
    return { ...(await (await overview()).migrationsOverview(config, rows, describeTarget(config))), note: null };
  } catch (error) {
    if (!(error instanceof TributaryError)) throw error;
    return { ...(await (await overview()).migrationsOverview(config, undefined, null)), note: `${error.message.replace(/\.$/, '')}: pending migrations not marked` };
  }
}

/** The live database against the schema the stream produced, per service, with the SQL that brings it back. */
export async function drift(target: Target, options: { services?: string[] } = {}): Promise<DriftReport> {
  const config = configOf(target);
  checkServices(config, options.services);
  return open(config, target, async (db) => (await import('./checks/drift.ts')).detectDrift(db, config, { services: options.services, withSql: true }));
}

/**
 * The deploy plan: the pending migrations (every migration when there is no database yet), or with
 * `since` those added since that git revision, in apply order, verified by a replay on PGlite.
 */
export async function plan(target: Target, options: { since?: string } = {}): Promise<PlanReport> {
  const config = configOf(target);
  const useDatabase = !options.since && (config.databaseUrl || embeddedDatabaseExists(config));
  const selection = useDatabase ? await open(config, target, async (db) => (await planning()).pendingSelection(db, config)) : await (await planning()).streamSelection(config, options.since);
  return (await planning()).buildPlan(config, selection);
}
