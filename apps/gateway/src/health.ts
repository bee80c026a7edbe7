/**
 * What `GET /health` answers: the migration counts from the history and the stream (a migration
 * file is hashed only when it is new or changed, not on every request), `degraded` while anything
 * is pending or wrong, or when the models this process loaded had changes without a migration.
 */
import { readMigrationState, type Database, type TributaryConfig } from '@tributary/migrate/boot';
import type { Health } from './app.ts';

export function migrationHealth(db: Database, config: TributaryConfig, modelChanges: string[]): () => Promise<Health> {
  return async () => {
    const state = await readMigrationState(db, config);
    // Model changes are read once, at boot: the models loaded in this process cannot change.
    const degraded = state.migrations.pending > 0 || state.problems.length > 0 || modelChanges.length > 0;
    return { status: degraded ? 'degraded' : 'ok', migrations: state.migrations };
  };
}
