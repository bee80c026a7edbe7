/**
 * Whether a target database is at the head of the stream, in one query and without the lock:
 * the history table's applied count, newest name and a digest of every applied name + checksum,
 * compared with the same three of the stream. Only a target that differs is opened for real.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { TributaryConfig } from '../config/config.ts';
import { maskUrl, redactSecrets } from '../db/urls.ts';
import { TributaryError, describeError } from '../errors.ts';
import type { StreamEntry } from '../stream/stream.ts';

/** The three figures a history table at the head of the stream shows. */
export interface StreamHead {
  count: number;
  last: string | null;
  digest: string;
}

export interface ProbeResult {
  atHead: boolean;
  /** Applied migrations recorded, and the newest of them by name (null: none, or no history table). */
  applied: number;
  last: string | null;
}

/** PostgreSQL's undefined_table: no history table yet, so nothing is applied. */
const UNDEFINED_TABLE = '42P01';

export function streamHead(stream: StreamEntry[]): StreamHead {
  // Byte order on both sides (the query sorts with collate "C"), names being ASCII.
  const sorted = stream.map((e) => `${e.name}:${e.checksum}`).sort();
  return { count: stream.length, last: stream.length ? stream.map((e) => e.name).sort().at(-1)! : null, digest: createHash('md5').update(sorted.join(',')).digest('hex') };
}

/** Asks `url` once; a target it cannot reach or log in to throws one sentence with the URL masked. */
export async function probeTarget(url: string, config: TributaryConfig, head: StreamHead): Promise<ProbeResult> {
  const client = new pg.Client({ connectionString: url, application_name: 'tributary', connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    try {
      await client.connect();
    } catch (error) {
      throw new TributaryError(`Cannot connect to ${maskUrl(url)}: ${redactSecrets(describeError(error) || String((error as any).code))}`, { cause: error });
    }
    const table = `"${config.historySchema}"."${config.historyTable}"`;
    const applied = `filter (where "status" = 'applied')`;
    try {
      const { rows } = await client.query(
        `select count(*) ${applied} ::int as "applied", max("name" collate "C") ${applied} as "last",
                md5(coalesce(string_agg("name" || ':' || "checksum", ',' order by "name" collate "C") ${applied}, '')) as "digest",
                count(*) filter (where "status" <> 'applied')::int as "failed"
           from ${table}`,
      );
      const row = rows[0];
      const atHead = row.failed === 0 && row.applied === head.count && (row.last ?? null) === head.last && row.digest === head.digest;
      return { atHead, applied: row.applied, last: row.last ?? null };
    } catch (error) {
      if ((error as any)?.code === UNDEFINED_TABLE) return { atHead: head.count === 0, applied: 0, last: null };
      throw error;
    }
  } finally {
    await client.end().catch(() => {});
  }
}
