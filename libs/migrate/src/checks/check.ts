/**
 * `check`: everything that can be wrong, reported together. Offline: models without a
 * migration, ownership, stream naming and shard health, every migration file loading and naming
 * a service of the workspace, and (with `--since REV`) migrations committed where the branch left
 * REV that were edited or deleted since. With a database: pending, out of order, edited after
 * being applied, applied but missing, failed, drift (tables changed by hand). Lint errors (not warnings) of pending migrations,
 * and of migrations added since REV, are problems too. Migrations of one service written on
 * different branches against the same parent state are a warning: the merge needs a look.
 */
import { readFileSync } from 'node:fs';
import type { TributaryConfig } from '../config/config.ts';
import { discoverServices, selectServices } from '../config/services.ts';
import type { Database } from '../db/connection.ts';
import { History, type HistoryRow } from '../db/history.ts';
import { divergenceMessage, divergences } from '../diff/divergence.ts';
import { makeMigrations } from '../diff/makemigrations.ts';
import { isRenderedMigration } from '../diff/writer.ts';
import { whatDiffers } from '../diff/change-summary.ts';
import { TributaryError } from '../errors.ts';
import { integrityFindings, outOfOrderMessage } from '../executor/integrity.ts';
import { compareStreamWithHistory } from '../executor/status.ts';
import { InvalidMigrationFile, invalidMigrationFiles, loadMigration, type MigrationDefinition } from '../stream/migration-file.ts';
import { strayFileMessage, strayFiles, type StreamEntry } from '../stream/stream.ts';
// Read once per process: check, makemigrations --check and the database part share the hashes.
import { readStreamCached, takeBytesReadInScope } from '../stream/stream-cache.ts';
import { detectDrift } from './drift.ts';
import { lintMigrations } from './lint.ts';
import { streamChangesSince } from './git.ts';

export interface CheckOptions {
  services?: string[];
  since?: string;
  /**
   * Remember a clean check in node_modules/.cache (the default) and answer an unchanged one from
   * it. Nx runs say false: Nx's cache of each task answers those, and the memo of a batch (its
   * key is the batch's services) would cost a fingerprint of the whole workspace, ~50 ms, on
   * every run that does work, for a later identical batch with Nx's cache gone.
   */
  remember?: boolean;
  /** Told of slow work as it starts (loading the models takes over a second, a shard is rebuilt). */
  onNote?: (line: string) => void;
}

export type ProblemKind =
  | 'model-changes'
  | 'invalid-models'
  | 'stray-file'
  | 'invalid-migration'
  | 'edited-since'
  | 'deleted-since'
  | 'pending'
  | 'out-of-order'
  | 'checksum-mismatch'
  | 'missing-file'
  | 'failed'
  | 'lint'
  | 'diverged'
  | 'replaced-deletable'
  | 'drift';

export interface Problem {
  kind: ProblemKind;
  message: string;
  service?: string;
  migration?: string;
}

export interface CheckReport {
  ok: boolean;
  problems: Problem[];
  /** What a person should look at, without failing the check (migrations of one service written on different branches). */
  warnings: Problem[];
  /** Good to know (with a database): replaced migrations whose files can be deleted. */
  notes: Problem[];
  /** Where the database part ran, or why it did not. */
  database: { checked: boolean; target: string | null; note?: string };
}

export async function checkOffline(config: TributaryConfig, options: CheckOptions = {}): Promise<Problem[]> {
  const problems: Problem[] = [];
  const wanted = options.services?.length ? options.services : undefined;
  const changes = options.since ? streamChangesSince(config.root, config.migrationsDir, options.since) : undefined;
  const stream = readStreamCached(config.migrationsDir);
  let services: string[] | undefined;
  try {
    const discovered = discoverServices(config);
    selectServices(discovered, wanted);
    services = discovered.map((s) => s.name).sort();
    const { changed, statements } = await makeMigrations(config, { services: wanted, check: true, remember: options.remember, onNote: options.onNote });
    for (const service of changed) {
      problems.push({ kind: 'model-changes', service, message: `Service ${service} has model changes without a migration${whatDiffers(statements?.[service])}: run \`migrate makemigrations --service ${service}\`.` });
    }
  } catch (error) {
    if (!(error instanceof TributaryError)) throw error;
    problems.push({ kind: 'invalid-models', message: error.message });
  }
  for (const file of strayFiles(config.migrationsDir)) {
    problems.push({ kind: 'stray-file', message: strayFileMessage(config.root, config.migrationsDir, file) });
  }
  // Every file, not only pending ones: a broken file must fail CI before it reaches a database.
  const mine = stream.filter((e) => !wanted || wanted.includes(e.service));
  // The bytes the stream was read from when this command read them (the file as hashed), else the file.
  const knownValid = (entry: StreamEntry) => isRenderedMigration((takeBytesReadInScope(entry) ?? readFileSync(entry.file)).toString('utf8'), entry.service);
  for (const { entry, message } of await invalidMigrationFiles(mine, { root: config.root, services, stream, knownValid })) {
    // The models' part stopped at the same broken file replaying the stream: the file is told
    // once, and that no service's models were compared stays a problem of every service.
    const same = problems.findIndex((p) => p.kind === 'invalid-models' && p.message === message);
    if (same >= 0) problems[same] = { kind: 'invalid-models', message: `No service's models were compared with the stream: replaying it stopped at the broken migration ${entry.name}.` };
    problems.push({ kind: 'invalid-migration', service: entry.service, migration: entry.name, message });
  }
  if (changes) {
    const since = `${options.since} (where this branch left it, ${changes.base.slice(0, 12)})`;
    for (const name of changes.modified) {
      problems.push({ kind: 'edited-since', migration: name, message: `Migration ${name} existed at ${since} and was modified since; committed migrations must not change — add a new migration instead.` });
    }
    for (const name of changes.deleted) {
      problems.push({ kind: 'deleted-since', migration: name, message: `Migration ${name} existed at ${since} and was deleted since; committed migrations must not be removed.` });
    }
    problems.push(...(await lintProblems(stream.filter((e) => changes.added.includes(e.name)), config)));
  }
  return wanted ? problems.filter((p) => !p.service || wanted.includes(p.service)) : problems;
}

/** Services whose migrations were written on different branches against the same parent state (after a merge). */
export function checkWarnings(config: TributaryConfig, options: CheckOptions = {}): Problem[] {
  return divergences(config.snapshotsDir)
    .filter((d) => !options.services?.length || options.services.includes(d.service))
    .map((d) => ({ kind: 'diverged', service: d.service, migration: d.branches.map((names) => names[0]).join(', '), message: divergenceMessage(d) }));
}

/** What `check` finds in one database. */
export interface DatabasePart {
  problems: Problem[];
  /** Squashes the database is past, whose replaced files can go. */
  notes: Problem[];
}

/** The database's problems and the notes of squashes it is past, from one read of the history. */
export async function checkDatabasePart(db: Database, config: TributaryConfig, options: CheckOptions = {}): Promise<DatabasePart> {
  const rows = await new History(db, config).rows();
  return { problems: await checkDatabase(db, config, options, rows), notes: deletableReplacedFiles(config, rows, db.label, options) };
}

async function checkDatabase(db: Database, config: TributaryConfig, options: CheckOptions, rows: HistoryRow[]): Promise<Problem[]> {
  const stream = readStreamCached(config.migrationsDir);
  const status = compareStreamWithHistory(stream, rows);
  const problems: Problem[] = [];
  const mine = (service: string) => !options.services?.length || options.services.includes(service);
  for (const entry of status.pending.filter((e) => mine(e.service))) {
    const late = status.outOfOrder.includes(entry);
    problems.push({
      kind: late ? 'out-of-order' : 'pending',
      service: entry.service,
      migration: entry.name,
      message: late
        ? outOfOrderMessage(entry)
        : `Migration ${entry.name} (${entry.service}) is not applied to ${db.label}.`,
    });
  }
  // Drift first: its reading of the database's schema is the longest wait, and goes on meanwhile.
  // It compares with the schema the stream produces: a migration file that does not load is
  // already a problem of its own (checkOffline names it), and leaves no such schema to compare with.
  const drifting = detectDrift(db, config, { services: options.services, status }).catch((error) => {
    if (error instanceof InvalidMigrationFile) return { services: [] };
    throw error;
  });
  drifting.catch(() => {}); // awaited below, after the lint
  try {
    problems.push(...(await lintProblems(status.pending.filter((e) => mine(e.service)), config)));
    problems.push(...integrityFindings(status, config).filter((finding) => mine(finding.service)));
  } catch (error) {
    await drifting.catch(() => {}); // nothing left reading a database the caller closes next
    throw error;
  }
  const drifted = await drifting;
  for (const drift of drifted.services.filter((s) => s.status === 'drift')) {
    const what = drift.findings.map((f) => f.detail).join('; ');
    problems.push({ kind: 'drift', service: drift.service, message: `Drift in ${drift.service} on ${db.label}: ${what}. Run \`migrate drift --service ${drift.service}\` for the SQL that brings it back to the stream.` });
  }
  return problems;
}

/**
 * Squashes this database is past: the squash is applied, so the files it replaces are not needed
 * here any more. They can be deleted once every other database is past it too.
 */
function deletableReplacedFiles(config: TributaryConfig, rows: HistoryRow[], label: string, options: CheckOptions): Problem[] {
  const applied = new Set(rows.filter((r) => r.status === 'applied').map((r) => r.name));
  return replacedFileNotes(readStreamCached(config.migrationsDir), (squash) => applied.has(squash), `${label} is`, ' once every other database is past it too', options);
}

/** A note for each squash of `stream` that `past` says the database(s) are past and whose replaced files are still there. */
export function replacedFileNotes(stream: StreamEntry[], past: (squash: string) => boolean, who: string, after: string, options: CheckOptions = {}): Problem[] {
  const inStream = new Set(stream.map((e) => e.name));
  const notes: Problem[] = [];
  for (const squash of stream) {
    if (!squash.replaces || !past(squash.name)) continue;
    if (options.services?.length && !options.services.includes(squash.service)) continue;
    const files = squash.replaces.filter((name) => inStream.has(name));
    if (files.length === 0) continue;
    notes.push({
      kind: 'replaced-deletable',
      service: squash.service,
      migration: squash.name,
      message: `${who} past squash ${squash.name}: the ${files.length} file${files.length === 1 ? '' : 's'} it replaces (${files[0]}${files.length > 1 ? ` … ${files.at(-1)}` : ''}) can be deleted${after}.`,
    });
  }
  return notes;
}

/** Reports the lint errors of `entries`; a file that fails to load is left to `checkOffline`, which reports every one. */
async function lintProblems(entries: StreamEntry[], config: TributaryConfig): Promise<Problem[]> {
  const problems: Problem[] = [];
  const definitions: MigrationDefinition[] = [];
  for (const entry of entries) {
    const definition = await loadMigration(entry, config.root).catch(() => undefined);
    if (definition) definitions.push(definition);
  }
  try {
    const report = await lintMigrations(definitions, config.root);
    for (const finding of report.findings.filter((f) => f.severity === 'error' && !f.allowed)) {
      const service = definitions.find((d) => d.entry.name === finding.migration)!.entry.service;
      problems.push({ kind: 'lint', service, migration: finding.migration, message: `${finding.file}: [${finding.rule}] ${finding.message} Safely: ${finding.safely}` });
    }
  } catch (error) {
    if (!(error instanceof TributaryError)) throw error;
    problems.push({ kind: 'invalid-migration', message: error.message });
  }
  return problems;
}
