/**
 * The startup check apps run at boot: is the database at the head of the stream (nothing
 * pending, no applied file edited or missing, no failure), and does every service's model match
 * the stream? It warns (default), refuses to start (`strict`), or first applies pending
 * migrations under the migration lock (`autoMigrate`). It reuses the app's open database.
 */
import type { MikroORM as PostgreSqlMikroORM } from '@mikro-orm/postgresql';
import type { MikroORM as PgliteMikroORM } from '@mikro-orm/pglite';
import { forMigrations, loadConfig, type TributaryConfig } from './config/config.ts';
import { openDatabase, withEntitiesOnDemand, type Database } from './db/connection.ts';
import { adoptOrm } from './db/adopt-orm.ts';
import { History, holdsExactly } from './db/history.ts';
import { makeMigrations } from './diff/makemigrations.ts';
import { TributaryError } from './errors.ts';
import { integrityProblems, outOfOrderMessage } from './executor/integrity.ts';
import { migrate } from './executor/migrate.ts';
import { workspaceEntities } from './models/index.ts';
import { compareStreamWithHistory } from './executor/status.ts';
import { readStreamCached } from './stream/stream-cache.ts';
import { migrationsOverview, migrationsPage } from './render/migrations-page.ts';

// What an app needs besides the check: its settings and one open database to share with it.
export { loadConfig, type TributaryConfig } from './config/config.ts';
export { describeTarget, openDatabase, type Database } from './db/connection.ts';
export { adoptOrm } from './db/adopt-orm.ts';
export { embeddedPgliteOptions } from './db/open-pglite.ts';
export { ensureEmbeddedDatabase } from './db/embedded.ts';
export { lockEmbeddedDatabase } from './db/file-lock.ts';
export { redactSecrets } from './db/urls.ts';
export { TributaryError, describeError } from './errors.ts';

/** The read-only `/migrations` page: the stream's status on `db` and the service graph, as one HTML document. */
export async function renderMigrationsPage(db: Database, config: TributaryConfig): Promise<string> {
  return migrationsPage(await migrationsOverview(config, await new History(db, config).rows(), db.label));
}

export interface StartupCheckOptions {
  /** Refuse to start (throw) unless the database is at the head and every model has its migration. */
  strict?: boolean;
  /** Apply pending migrations under the migration lock before checking. */
  autoMigrate?: boolean;
  /** Also look for model changes without a migration (default true). Loads the model files, which the app has usually imported already. */
  modelChanges?: boolean;
  /** The app's open database (from `openDatabase`): reused, left open. */
  db?: Database;
  /** Or the app's connected MikroORM instance: its connection is reused, and it is left open. */
  orm?: PostgreSqlMikroORM | PgliteMikroORM;
  /** Where the workspace is (default: the current directory). */
  cwd?: string;
  /** Without `db` or `orm`: overrides `DATABASE_URL` for the connection the check opens (and closes). */
  databaseUrl?: string;
  /** Receives each warning and progress line (default `console.warn`). */
  log?: (line: string) => void;
  /** How long `autoMigrate` waits for another replica holding the lock (default from the config, 60 s). */
  lockWaitSeconds?: number;
}

/** What `/health` reports: `head` is the latest applied migration. */
export interface MigrationCounts {
  applied: number;
  pending: number;
  head: string | null;
}

export interface MigrationState {
  migrations: MigrationCounts;
  /** Pending migration names, in name order. */
  pending: string[];
  /** Edited or missing applied files, failed or out-of-order migrations: one sentence each. */
  problems: string[];
}

export interface StartupStatus extends MigrationState {
  status: 'ok' | 'degraded';
  /** Where the data lives, for messages. */
  database: string;
  /** Services whose models changed without a migration. */
  modelChanges: string[];
  /** Migrations applied by `autoMigrate` during this check. */
  migrated: string[];
  /** Every finding as one line, as logged. */
  warnings: string[];
}

const MAX_NAMED = 50;

/**
 * History vs stream only: cheap enough for every `/health` request (imports no file, hashes only
 * new or changed ones; at the head, one row of the history table is read, not all of them).
 */
export async function readMigrationState(db: Database, config: TributaryConfig): Promise<MigrationState> {
  const history = new History(db, config);
  // On its way while the stream is read. Any failure (a server without sha256(), PostgreSQL < 11)
  // only means reading every row, which then reports a real problem itself.
  const summary = history.summary().catch(() => undefined);
  const stream = readStreamCached(config.migrationsDir, config.root);
  const applied = await summary;
  if (applied && holdsExactly(applied, stream)) {
    return { migrations: { applied: applied.applied, pending: 0, head: applied.head }, pending: [], problems: [] };
  }
  const status = compareStreamWithHistory(stream, await history.rows());
  const problems = integrityProblems(status, config);
  problems.push(...status.outOfOrder.map(outOfOrderMessage));
  return {
    migrations: { applied: status.applied.length, pending: status.pending.length, head: status.applied.at(-1)?.name ?? null },
    pending: status.pending.map((e) => e.name),
    problems,
  };
}

export async function checkMigrationsOnStartup(options: StartupCheckOptions = {}): Promise<StartupStatus> {
  const config = loadConfig({ cwd: options.cwd, databaseUrl: options.databaseUrl });
  // Close what this check opened: its own connection, or the session it pinned on the app's ORM.
  const closeAfter = !options.db;
  const db = options.db ?? (options.orm ? adoptOrm(options.orm) : await openDatabase(config));
  const log = options.log ?? ((line: string) => console.warn(line));
  try {
    const migrated: string[] = [];
    if (options.autoMigrate) {
      const result = await applyPendingAtBoot(db, config, options, log);
      migrated.push(...result.applied.map((m) => m.name));
      if (migrated.length > 0) log(`Applied ${migrated.length} pending migration${migrated.length === 1 ? '' : 's'}: ${migrated.join(', ')}.`);
    }
    const state = await readMigrationState(db, config);
    const modelChanges = options.modelChanges === false ? [] : await servicesWithUnmigratedChanges(config, db, state.problems, log);

    // Name each pending migration, but don't flood the log of a fresh database with thousands.
    const named = state.pending.slice(0, MAX_NAMED);
    const unnamed = state.pending.length - named.length;
    const warnings = [
      ...named.map((name) => `Migration ${name} is pending on ${db.label}.`),
      ...(unnamed > 0 ? [`… and ${unnamed} more pending migration${unnamed === 1 ? '' : 's'} (\`npx migrate showmigrations\` lists them).`] : []),
      ...modelChanges.map((service) => `Service ${service} has model changes without a migration: run \`npx migrate makemigrations --service ${service}\`.`),
      ...state.problems,
    ];
    const status: StartupStatus = { status: warnings.length ? 'degraded' : 'ok', database: db.label, ...state, modelChanges, migrated, warnings };
    if (options.strict && warnings.length > 0) throw new TributaryError(refusal(status));
    for (const line of warnings) log(`⚠ ${line}`);
    if (state.pending.length > 0) log(`Run \`npx migrate migrate\` to apply ${state.pending.length === 1 ? 'it' : 'them'}.`);
    return status;
  } finally {
    if (closeAfter) await db.close();
  }
}

/**
 * `autoMigrate`: on a connection of its own to MIGRATION_DATABASE_URL when that is set (a direct
 * connection, a DDL role), otherwise on the app's database.
 */
async function applyPendingAtBoot(db: Database, config: TributaryConfig, options: StartupCheckOptions, log: (line: string) => void) {
  const migrationConfig = forMigrations(config);
  const target = migrationConfig === config ? db : await openDatabase(migrationConfig);
  try {
    // Data migrations get every service's entities, registered only if one asks (the app's ORM may know them already).
    const withEntities = withEntitiesOnDemand(target, () => workspaceEntities(config));
    return await migrate(withEntities, migrationConfig, { lockWaitSeconds: options.lockWaitSeconds }, {
      waitingForLock: () => log('Another replica holds the migration lock; waiting for it…'),
      applying: (name, index, total) => log(`Applying ${index + 1}/${total} ${name}…`),
      applied: (name, ms) => log(`  applied ${name} (${Math.round(ms)} ms)`),
    });
  } finally {
    if (target !== db) await target.close();
  }
}

/** The makemigrations check, read-only; a model the library cannot compile becomes a problem. */
async function servicesWithUnmigratedChanges(config: TributaryConfig, db: Database, problems: string[], log: (line: string) => void): Promise<string[]> {
  try {
    // The app's ORM has discovered the models already: lend its metadata (used only if it holds exactly them).
    return (await makeMigrations(config, { check: true, orm: db.orm as PostgreSqlMikroORM, onNote: log })).changed;
  } catch (error) {
    if (!(error instanceof TributaryError)) throw error;
    problems.push(error.message);
    return [];
  }
}

/** One sentence (a few names long) saying why strict mode will not start. */
function refusal(status: StartupStatus): string {
  const reasons: string[] = [];
  if (status.pending.length > 0) {
    const more = status.pending.length > 5 ? `, … ${status.pending.length - 5} more` : '';
    reasons.push(`${status.pending.length} pending migration${status.pending.length === 1 ? '' : 's'} (${status.pending.slice(0, 5).join(', ')}${more})`);
  }
  if (status.modelChanges.length > 0) reasons.push(`model changes without a migration in ${status.modelChanges.join(', ')}`);
  reasons.push(...status.problems.map((problem) => problem.replace(/\.$/, '')));
  return `Strict startup check failed for ${status.database}: ${reasons.join('; ')}.${fixFor(status)}`;
}

/** What resolves the refusal: AUTO_MIGRATE only applies pending migrations, it never writes the missing ones. */
function fixFor(status: StartupStatus): string {
  const pending = status.pending.length > 0;
  const changed = status.modelChanges.length > 0;
  const makemigrations = `\`npx migrate makemigrations${status.modelChanges.length === 1 ? ` --service ${status.modelChanges[0]}` : ''}\``;
  if (pending && changed) return ` Run ${makemigrations} to write the missing migration for the model changes, then \`npx migrate migrate\` to apply it with the pending ones (AUTO_MIGRATE=true applies pending migrations but writes none).`;
  if (pending) return ' Run `npx migrate migrate` first (or start with AUTO_MIGRATE=true).';
  if (changed) return ` Run ${makemigrations} and apply the result.`;
  return '';
}
