/**
 * Repairs and stamps history: `repair` realigns checksums with the files, forgets applied
 * migrations whose files are gone and clears failures; `stamp` records migrations as applied
 * without running them (e.g. a database created by other means).
 */
import type { TributaryConfig } from '../config/config.ts';
import type { Database } from '../db/connection.ts';
import { History } from '../db/history.ts';
import { withMigrationLock } from '../db/lock.ts';
import { findEntry, readStream } from '../stream/stream.ts';
import { migrate, type MigrateEvents, type MigrateResult } from './migrate.ts';
import { compareStreamWithHistory } from './status.ts';

export interface RepairResult {
  realigned: string[];
  forgotten: string[];
  clearedFailures: string[];
}

export async function repair(db: Database, config: TributaryConfig): Promise<RepairResult> {
  const history = new History(db, config);
  return withMigrationLock(db, history.tableName, { waitSeconds: config.lockWaitSeconds }, async () => {
    const status = compareStreamWithHistory(readStream(config.migrationsDir), await history.rows());
    for (const { entry } of status.mismatched) await history.updateChecksum(entry.name, entry.checksum);
    for (const row of [...status.missing, ...status.failed]) await history.remove(row.name);
    return {
      realigned: status.mismatched.map((m) => m.entry.name),
      forgotten: status.missing.map((r) => r.name),
      clearedFailures: status.failed.map((r) => r.name),
    };
  });
}

/** Records every pending migration up to `target` (`head` for all) as applied, running nothing. */
export async function stamp(db: Database, config: TributaryConfig, target: string, events: Pick<MigrateEvents, 'confirm'> = {}): Promise<MigrateResult> {
  if (target !== 'head') findEntry(readStream(config.migrationsDir), target, 'stamp');
  return migrate(db, config, { to: target, fake: true, allowOutOfOrder: true }, events);
}
