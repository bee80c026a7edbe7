/**
 * Compares the stream with the history table: what is applied, pending, failed, out of
 * order (per service), edited after being applied, or applied but missing from disk.
 */
import type { HistoryRow } from '../db/history.ts';
import { squashUse } from '../stream/replaces.ts';
import type { StreamEntry } from '../stream/stream.ts';

export interface MigrationStatus {
  name: string;
  service: string;
  applied: boolean;
  appliedAt: Date | null;
  /** Present when something is wrong with this migration. */
  problem?: 'checksum-mismatch' | 'missing-file' | 'out-of-order' | 'failed';
}

export interface StreamStatus {
  /** Every migration of the stream and every applied one missing from it, by name. */
  migrations: MigrationStatus[];
  applied: HistoryRow[];
  pending: StreamEntry[];
  /** Pending migrations of a service that already has a later applied migration. */
  outOfOrder: StreamEntry[];
  mismatched: Array<{ entry: StreamEntry; row: HistoryRow }>;
  missing: HistoryRow[];
  failed: HistoryRow[];
  /** Migrations a used squash stands for (see stream/replaces.ts): not pending, not listed. */
  represented: Set<string>;
  /** Pending squashes to record without running, after the replaced migrations still pending. */
  recordOnly: Set<string>;
}

export function compareStreamWithHistory(stream: StreamEntry[], rows: HistoryRow[]): StreamStatus {
  const applied = rows.filter((r) => r.status === 'applied');
  const failed = rows.filter((r) => r.status === 'failed');
  const appliedByName = new Map(applied.map((r) => [r.name, r]));
  const failedNames = new Set(failed.map((r) => r.name));
  const latestAppliedOf = new Map<string, string>();
  for (const row of applied) {
    if ((latestAppliedOf.get(row.service) ?? '') < row.name) latestAppliedOf.set(row.service, row.name);
  }
  const inStream = new Set(stream.map((e) => e.name));
  const { represented, recordOnly } = squashUse(stream, new Set(appliedByName.keys()));
  // An applied migration that a squash of the stream replaces may have its file deleted.
  const replaced = new Set(stream.flatMap((e) => e.replaces ?? []));

  const pending: StreamEntry[] = [];
  const outOfOrder: StreamEntry[] = [];
  const mismatched: StreamStatus['mismatched'] = [];
  const migrations: MigrationStatus[] = [];
  for (const entry of stream) {
    if (represented.has(entry.name)) continue;
    const row = appliedByName.get(entry.name);
    const status: MigrationStatus = { name: entry.name, service: entry.service, applied: Boolean(row), appliedAt: row?.appliedAt ?? null };
    if (row) {
      if (row.checksum !== entry.checksum) {
        mismatched.push({ entry, row });
        status.problem = 'checksum-mismatch';
      }
    } else {
      pending.push(entry);
      if (!recordOnly.has(entry.name) && (latestAppliedOf.get(entry.service) ?? '') > entry.name) {
        outOfOrder.push(entry);
        status.problem = 'out-of-order';
      } else if (failedNames.has(entry.name)) {
        status.problem = 'failed';
      }
    }
    migrations.push(status);
  }
  const missing = applied.filter((r) => !inStream.has(r.name) && !replaced.has(r.name));
  for (const row of missing) {
    migrations.push({ name: row.name, service: row.service, applied: true, appliedAt: row.appliedAt, problem: 'missing-file' });
  }
  migrations.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { migrations, applied, pending, outOfOrder, mismatched, missing, failed, represented, recordOnly };
}
