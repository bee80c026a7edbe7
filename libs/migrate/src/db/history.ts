/**
 * The history table. Invariant: a row with status `applied` always means the migration is
 * applied — it commits in the same transaction as a transactional migration's SQL — and it is
 * never overwritten: recording a name that is already applied fails (the second apply is an
 * error, never a silent success). A failed non-transactional migration leaves a row with status
 * `failed`, never counted as applied, which a later successful run replaces.
 */
import { createHash } from 'node:crypto';
import type { Transaction } from '@mikro-orm/core';
import type { TributaryConfig } from '../config/config.ts';
import { TributaryError } from '../errors.ts';
import type { Database, PinnedSession } from './connection.ts';

/** PostgreSQL's unique_violation: the history row of that name exists already. */
const UNIQUE_VIOLATION = '23505';

export function alreadyAppliedError(name: string, cause?: unknown): TributaryError {
  return new TributaryError(`Migration ${name} is already recorded as applied (another runner applied it meanwhile?); this runner did not apply it again and stops here.`, { cause });
}

export interface HistoryRow {
  name: string;
  service: string;
  checksum: string;
  appliedAt: Date;
  executionMs: number;
  appliedBy: string;
  status: 'applied' | 'failed';
  error: string | null;
}

/** The history table in one row (`History.summary`). */
export interface HistorySummary {
  applied: number;
  /** Rows that are not applied (failed or interrupted migrations). */
  others: number;
  /** `digestOf` the applied rows' names and checksums. */
  digest: string;
  /** The migration applied last, null when none is. */
  head: string | null;
}

/** The digest `History.summary` computes on the server: equal digests, equal name→checksum sets. */
export function digestOf(entries: ReadonlyArray<{ name: string; checksum: string }>): string {
  // Names are ASCII: comparing code units is the server's byte order ("C").
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return createHash('sha256').update(sorted.map((e) => `${e.name} ${e.checksum}`).join('\n')).digest('hex');
}

/** Whether a history summarised by `summary` holds exactly `stream`: all applied, with their checksums, nothing else, no failure. */
export function holdsExactly(summary: HistorySummary, stream: ReadonlyArray<{ name: string; checksum: string }>): boolean {
  return summary.others === 0 && summary.applied === stream.length && summary.digest === digestOf(stream);
}

export class History {
  readonly #db: Database;
  readonly #table: string;
  readonly #schema: string;
  readonly #name: string;

  constructor(db: Database, config: TributaryConfig) {
    this.#db = db;
    this.#schema = config.historySchema;
    this.#name = config.historyTable;
    this.#table = `"${config.historySchema}"."${config.historyTable}"`;
  }

  /** Whether `error` is this table refusing a second row for one migration (its unique "name"). */
  isAlreadyRecorded(error: unknown): boolean {
    const constraint = `${this.#name}_name_key`;
    for (let e: any = error; e; e = e.cause) {
      if (e.code === UNIQUE_VIOLATION && (e.constraint === constraint || String(e.message).includes(constraint))) return true;
    }
    return false;
  }

  get tableName(): string {
    return `${this.#schema}.${this.#name}`;
  }

  /** Creates the table if needed; call under the migration lock. */
  async ensureTable(): Promise<void> {
    if (await this.exists()) return;
    // On the session holding the lock: plain SQL, no ORM needed.
    await this.#db.session.query(`create schema if not exists "${this.#schema}"`);
    await this.#db.session.query(`create table if not exists ${this.#table} (
      "id" serial primary key,
      "name" varchar(255) not null unique,
      "service" varchar(255) not null,
      "checksum" char(64) not null,
      "applied_at" timestamptz not null default now(),
      "execution_ms" integer not null default 0,
      "applied_by" text not null default current_user,
      "status" varchar(16) not null default 'applied' check ("status" in ('applied', 'failed')),
      "error" text null
    )`);
  }

  async exists(): Promise<boolean> {
    const [row] = await this.#db.read(`select to_regclass(${sqlLiteral(this.#table)}) is not null as "exists"`);
    return Boolean(row?.exists);
  }

  /** Every row, oldest first; empty when the table does not exist yet. */
  async rows(): Promise<HistoryRow[]> {
    // One round trip (the boot check's cost): read, and take "no such table" for no rows.
    let rows: any[];
    try {
      // applied_at as epoch milliseconds: a number is parsed ~10× faster than a timestamp text (1,000 rows at boot).
      rows = await this.#db.read(`select "name", "service", "checksum", (extract(epoch from "applied_at") * 1000)::float8 as "applied_ms", "execution_ms", "applied_by", "status", "error" from ${this.#table} order by "id"`);
    } catch (error) {
      if (isUndefinedTable(error)) return [];
      throw error;
    }
    return rows.map((row) => ({
      name: row.name,
      service: row.service,
      checksum: row.checksum,
      appliedAt: new Date(row.applied_ms),
      executionMs: Number(row.execution_ms),
      appliedBy: row.applied_by,
      status: row.status,
      error: row.error,
    }));
  }

  /**
   * The table in one row, for a caller that only wants to know whether it holds exactly a given
   * stream (an app at the head of 1,000 migrations reads one row at boot instead of 1,000): how
   * many rows are applied and how many are not, a digest of the applied ones (`digestOf`), and the
   * latest applied name. Undefined when the table does not exist yet.
   */
  async summary(): Promise<HistorySummary | undefined> {
    // Byte order ("C"), as the stream sorts its names; sha256() is built in since PostgreSQL 11.
    const applied = `"status" = 'applied'`;
    let rows: any[];
    try {
      rows = await this.#db.read(`select count(*) filter (where ${applied})::int as "applied", count(*) filter (where not (${applied}))::int as "others",
        encode(sha256(convert_to(coalesce(string_agg("name" || ' ' || "checksum", E'\\n' order by "name" collate "C") filter (where ${applied}), ''), 'UTF8')), 'hex') as "digest",
        (select "name" from ${this.#table} where ${applied} order by "id" desc limit 1) as "head"
        from ${this.#table}`);
    } catch (error) {
      if (isUndefinedTable(error)) return undefined;
      throw error;
    }
    const [row] = rows;
    return { applied: Number(row.applied), others: Number(row.others), digest: row.digest, head: row.head ?? null };
  }

  /** Records `entry` as applied; a failed row of the same name is replaced, an applied one is an error. */
  async recordApplied(entry: { name: string; service: string; checksum: string }, executionMs: number, ctx?: Transaction): Promise<void> {
    // One statement, so that outside a transaction (a non-transactional migration) it is atomic too.
    const rows = await this.#write(
      `insert into ${this.#table} ("name", "service", "checksum", "execution_ms", "status") values (${sqlLiteral(entry.name)}, ${sqlLiteral(entry.service)}, ${sqlLiteral(entry.checksum)}, ${Math.round(executionMs)}, 'applied')
       on conflict ("name") do update set "checksum" = excluded."checksum", "execution_ms" = excluded."execution_ms", "status" = 'applied', "error" = null, "applied_at" = now(), "applied_by" = current_user
       where ${this.#table}."status" = 'failed'
       returning "name"`,
      ctx,
    );
    if (rows.length === 0) throw alreadyAppliedError(entry.name);
  }

  /**
   * One write of the table, as SQL text with inline literals: inside the caller's ORM transaction,
   * or else on the pinned session (no ORM needed: `stamp`, `repair`, a non-transactional migration).
   */
  async #write(sql: string, ctx?: Transaction): Promise<any[]> {
    if (ctx) return this.#db.connection.execute<any[]>(sql, [], 'all', ctx);
    return this.#db.session.query(sql);
  }

  /**
   * The same write as `recordApplied`/`remove`, as SQL text with inline literals, so it can travel
   * in the migration's own round trip. Without `executionMs`, the server measures it: from the
   * start of that round trip, or — in a pipeline of several — from the moment the migration before
   * it (`previous`) was recorded in that same round trip (one index lookup, where summing every
   * earlier one's time cost ~0.5 ms per migration). `applied_at` is then the moment of recording.
   */
  recordSql(direction: 'up' | 'down', entry: { name: string; service: string; checksum: string }, executionMs?: number, previous?: string): string {
    const name = sqlLiteral(entry.name);
    if (direction === 'down') return `delete from ${this.#table} where "name" = ${name}`;
    const since = previous === undefined ? 'statement_timestamp()' : `(select "applied_at" from ${this.#table} where "name" = ${sqlLiteral(previous)})`;
    const ms = executionMs === undefined ? `round(extract(epoch from clock_timestamp() - ${since}) * 1000)::int` : String(Math.round(executionMs));
    return `delete from ${this.#table} where "name" = ${name} and "status" = 'failed';
insert into ${this.#table} ("name", "service", "checksum", "execution_ms", "status", "applied_at") values (${name}, ${sqlLiteral(entry.service)}, ${sqlLiteral(entry.checksum)}, ${ms}, 'applied', ${executionMs === undefined ? 'clock_timestamp()' : 'now()'})`;
  }

  /** Which of `names` are recorded as applied, with their execution time (on `session`, or the ORM's connection). */
  async appliedAmong(names: string[], session?: PinnedSession): Promise<Map<string, number>> {
    if (names.length === 0) return new Map();
    const sql = `select "name", "execution_ms" from ${this.#table} where "status" = 'applied' and "name" in (${names.map(sqlLiteral).join(', ')})`;
    const rows = session ? await session.query(sql) : await this.#db.connection.execute<any[]>(sql);
    return new Map(rows.map((row: any) => [row.name as string, Number(row.execution_ms)]));
  }

  /** Records `entry` as failed (or interrupted); never over an applied row — that is an error. */
  async recordFailed(entry: { name: string; service: string; checksum: string }, error: string): Promise<void> {
    const rows = await this.#write(
      `insert into ${this.#table} ("name", "service", "checksum", "status", "error") values (${sqlLiteral(entry.name)}, ${sqlLiteral(entry.service)}, ${sqlLiteral(entry.checksum)}, 'failed', ${sqlLiteral(error)})
       on conflict ("name") do update set "status" = 'failed', "error" = excluded."error", "applied_at" = now() where ${this.#table}."status" = 'failed'
       returning "name"`,
    );
    if (rows.length === 0) throw alreadyAppliedError(entry.name);
  }

  async remove(name: string, ctx?: Transaction): Promise<void> {
    await this.#write(`delete from ${this.#table} where "name" = ${sqlLiteral(name)}`, ctx);
  }

  async updateChecksum(name: string, checksum: string): Promise<void> {
    await this.#write(`update ${this.#table} set "checksum" = ${sqlLiteral(checksum)} where "name" = ${sqlLiteral(name)}`);
  }
}

/** PostgreSQL's undefined_table (PGlite's message says the same). */
function isUndefinedTable(error: unknown): boolean {
  for (let e: any = error; e; e = e.cause) if (e.code === '42P01' || /relation .* does not exist/.test(String(e.message))) return true;
  return false;
}

/** A string literal that reads the same whatever `standard_conforming_strings` says (a backslash goes in an E'' string). */
function sqlLiteral(value: string): string {
  const quoted = value.replaceAll("'", "''");
  return value.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}
