/**
 * The deploy plan, for review: the migrations `migrate` would apply, in its order, each
 * statement with the table locks it takes (locks.ts), the tables it touches and the service that
 * owns each, the lint findings, and a verification — the stream replayed into an in-memory
 * PGlite database (what is already applied first, then the plan), so that a statement that fails
 * is reported before any real database sees it. Only SQL collected with `addSql` is read or
 * replayed: no query of a migration's own ever runs.
 */
import { relative } from 'node:path';
import type { TributaryConfig } from '../config/config.ts';
import { openDatabase, type Database } from '../db/connection.ts';
import { History } from '../db/history.ts';
import { listTables, takenOver } from '../diff/rebuild.ts';
import { describeError } from '../errors.ts';
import { planPending } from '../executor/migrate.ts';
import { replayCollectedSql } from '../executor/runner.ts';
import { collectSql, sqlReader } from '../executor/sql-reader.ts';
import { compareStreamWithHistory } from '../executor/status.ts';
import { MigrationGraph } from '../stream/graph.ts';
import { replacedBy, resolveDependencies, squashUse } from '../stream/replaces.ts';
import { loadMigration, type MigrationDefinition } from '../stream/migration-file.ts';
import { readStream, type StreamEntry } from '../stream/stream.ts';
import { streamChangesSince } from './git.ts';
import { lintMigrations, oneLine, statementsOf, type LintFinding } from './lint.ts';
import { blockedBy, locksOf, strongest, type LockContext, type LockMode } from './locks.ts';

export interface PlannedLock {
  table: string;
  mode: LockMode;
  /** The service whose migrations made the table (null: not made by the stream). */
  owner: string | null;
}

export interface PlannedStatement {
  sql: string;
  /** The parse tree's statement kind (`AlterTableStmt`), or `syntax error`. */
  kind: string;
  locks: PlannedLock[];
  /** The strongest of them, and what application traffic waits while it is held. */
  lock: LockMode | null;
  blocks: 'reads and writes' | 'writes' | 'nothing';
  note?: string;
}

export interface PlannedMigration {
  name: string;
  service: string;
  /** Relative to the workspace root. */
  file: string;
  transactional: boolean;
  /** A squash whose replaced migrations are applied (or run before it): recorded without running. */
  recordOnly: boolean;
  statements: PlannedStatement[];
  /** Queries up() sends itself (data migrations): they run only against the real database. */
  directQueries: string[];
  lint: LintFinding[];
}

export interface PlanVerification {
  ok: boolean;
  /** Migrations replayed before the plan: those already applied (or, with --since, those older than the branch). */
  replayedFirst: number;
  /** Migrations of the plan replayed successfully. */
  replayed: number;
  failure: { migration: string; message: string } | null;
}

export interface PlanReport {
  ok: boolean;
  /** Which migrations were planned and why. */
  scope: string;
  migrations: PlannedMigration[];
  verification: PlanVerification;
}

/** What to plan: the migrations in apply order, and the ones the database already has. */
export interface PlanSelection {
  scope: string;
  planned: MigrationDefinition[];
  applied: StreamEntry[];
}

/** The pending migrations of `db`, in the order `migrate` applies them (its own planner). */
export async function pendingSelection(db: Database, config: TributaryConfig): Promise<PlanSelection> {
  const history = new History(db, config);
  const planned = await planPending(config, history, {}, db.session);
  const stream = readStream(config.migrationsDir);
  const applied = new Set(compareStreamWithHistory(stream, await history.rows()).applied.map((row) => row.name));
  return { scope: `pending migrations of ${db.label}`, planned, applied: replayable(stream, applied) };
}

/**
 * With `since`: the files added since that git revision, on a database that has every other one;
 * otherwise every migration a fresh database would run (no database yet). Squashes count as
 * `migrate` counts them: one whose replaced migrations are applied is only recorded.
 */
export async function streamSelection(config: TributaryConfig, since?: string): Promise<PlanSelection> {
  const stream = readStream(config.migrationsDir);
  const added = since ? new Set(streamChangesSince(config.root, config.migrationsDir, since).added) : undefined;
  const applied = new Set(stream.filter((e) => added && !added.has(e.name)).map((e) => e.name));
  const { represented, recordOnly } = squashUse(stream, applied);
  const planned = await ordered(config, stream, stream.filter((e) => !applied.has(e.name) && !represented.has(e.name)));
  for (const definition of planned) definition.recordOnly = recordOnly.has(definition.entry.name);
  const scope = since ? `migrations added since ${since}` : 'every migration (no DATABASE_URL and no embedded database yet)';
  return { scope, planned, applied: replayable(stream, applied) };
}

/** The applied migrations whose SQL made the database's schema: a squash stands for what it replaces, or they for it. */
function replayable(stream: StreamEntry[], applied: Set<string>): StreamEntry[] {
  const { represented } = squashUse(stream, applied);
  return stream.filter((e) => applied.has(e.name) && !represented.has(e.name));
}

async function ordered(config: TributaryConfig, stream: StreamEntry[], entries: StreamEntry[]): Promise<MigrationDefinition[]> {
  const squashes = replacedBy(stream);
  const definitions = await Promise.all(entries.map((entry) => loadMigration(entry, config.root)));
  for (const definition of definitions) definition.dependsOn = resolveDependencies(definition.dependsOn, squashes, entries);
  const graph = new MigrationGraph(definitions, new Set(stream.map((e) => e.name)), config.root);
  return graph.order(entries.map((e) => e.name)).map((name) => graph.get(name)!);
}

export async function buildPlan(config: TributaryConfig, selection: PlanSelection): Promise<PlanReport> {
  const lint = await lintMigrations(selection.planned, config.root);
  const scratch = await openDatabase(config, { memory: true });
  const verification: PlanVerification = { ok: true, replayedFirst: 0, replayed: 0, failure: null };
  const migrations: PlannedMigration[] = [];
  try {
    const history = new History(scratch, config);
    await history.ensureTable();
    const historyTable = `${config.historySchema}.${config.historyTable}`;
    const owners = new Map<string, string>();
    let tables = await listTables(scratch.session.query, historyTable);
    // Replays one migration's collected SQL; records who made (or took over) which table.
    const replay = async (definition: MigrationDefinition) => {
      await replayCollectedSql(scratch, history, definition, config.root);
      const after = await listTables(scratch.session.query, historyTable);
      for (const table of after) if (!tables.has(table)) owners.set(table, definition.entry.service);
      for (const table of takenOver(definition)) owners.set(table, definition.entry.service);
      tables = after;
    };

    for (const entry of await ordered(config, readStream(config.migrationsDir), selection.applied)) {
      try {
        await replay(entry);
        verification.replayedFirst++;
      } catch (error) {
        verification.failure = { migration: entry.entry.name, message: `the stream before the plan does not replay (${describeError(error)})` };
        break;
      }
    }
    for (const definition of selection.planned) {
      const context: LockContext = { indexes: await indexesOf(scratch) };
      const none = { statements: [] as string[], directQueries: [] as string[] };
      // A squash whose replaced migrations are all applied is recorded, not run.
      const collected = definition.recordOnly ? none : await collectSql(sqlReader(), definition, 'up').catch(() => none);
      const statements = await analyse(collected.statements, context);
      if (definition.recordOnly) verification.replayed++;
      else if (!verification.failure) {
        try {
          await replay(definition);
          verification.replayed++;
        } catch (error) {
          verification.failure = { migration: definition.entry.name, message: describeError(error) };
        }
      }
      for (const statement of statements) for (const lock of statement.locks) lock.owner = owners.get(lock.table) ?? null;
      migrations.push({
        name: definition.entry.name,
        service: definition.entry.service,
        file: relative(config.root, definition.entry.file),
        transactional: definition.transactional,
        recordOnly: definition.recordOnly ?? false,
        statements,
        directQueries: collected.directQueries,
        lint: lint.findings.filter((f) => f.migration === definition.entry.name),
      });
    }
  } finally {
    await scratch.close();
  }
  verification.ok = verification.failure === null;
  return { ok: verification.ok, scope: selection.scope, migrations, verification };
}

/** Each collected SQL text, split into its parsed statements, with their locks. */
async function analyse(texts: string[], context: LockContext): Promise<PlannedStatement[]> {
  const result: PlannedStatement[] = [];
  for (const text of texts) {
    let parsed;
    try {
      parsed = await statementsOf(text);
    } catch (error) {
      result.push({ sql: oneLine(text), kind: 'syntax error', locks: [], lock: null, blocks: 'nothing', note: `SQL syntax error: ${describeError(error)}` });
      continue;
    }
    for (const { node, text: sql } of parsed) {
      const { kind, locks, note } = locksOf(node, context);
      const lock = strongest(locks.map((l) => l.mode)) ?? null;
      result.push({ sql, kind, locks: locks.map((l) => ({ ...l, owner: null })), lock, blocks: lock ? blockedBy(lock) : 'nothing', ...(note ? { note } : {}) });
    }
  }
  return result;
}

/** `schema.index` → `schema.table`, as the scratch database has them before a migration. */
async function indexesOf(db: Database): Promise<Map<string, string>> {
  const rows = await db.session.query(`select schemaname || '.' || indexname as "index", schemaname || '.' || tablename as "table" from pg_indexes where schemaname not in ('pg_catalog', 'information_schema')`);
  return new Map(rows.map((row) => [row.index as string, row.table as string]));
}
