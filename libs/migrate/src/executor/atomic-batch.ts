/**
 * `migrate --atomic`: the whole batch in one transaction — every migration and its history row
 * commit together, or none does; non-transactional migrations are refused before anything runs.
 */
import { relative } from 'node:path';
import type { Transaction } from '@mikro-orm/core';
import type { Database } from '../db/connection.ts';
import type { History } from '../db/history.ts';
import { TributaryError } from '../errors.ts';
import type { MigrationDefinition } from '../stream/migration-file.ts';
import { startingAgainForEntities } from './entities-on-demand.ts';
import { deadClientCheck, timeoutStatements, withLockRetries, type RunOptions } from './run-options.ts';
import { applyInside } from './runner.ts';

export function refuseNonTransactional(definitions: MigrationDefinition[], root: string): void {
  const refused = definitions.find((d) => !d.transactional);
  if (refused) {
    throw new TributaryError(`Migration ${relative(root, refused.entry.file)} is non-transactional (static transactional = false), so it cannot run inside an --atomic batch; apply it on its own without --atomic.`);
  }
}

/**
 * Applies a whole batch in one transaction (`migrate --atomic`): every migration and its history
 * row commit together, or none does. Non-transactional migrations cannot take part.
 */
export async function runAtomicBatch(
  db: Database,
  history: History,
  definitions: MigrationDefinition[],
  options: RunOptions,
  events: { applying?: (definition: MigrationDefinition, index: number) => void; applied?: (definition: MigrationDefinition, ms: number) => void } = {},
): Promise<number[]> {
  refuseNonTransactional(definitions, options.root);
  const check = await deadClientCheck(db);
  // A migration that asks for the entity manager first rolls the whole batch back; it then runs again with them.
  const durations = await saidOfTheBatch(definitions.length, () => startingAgainForEntities(db, () =>
    withLockRetries(options.lockRetries, options.onRetry, async () => {
      await options.prove?.('the atomic batch');
      const measured: number[] = [];
      await db.connection.transactional(async (trx: Transaction) => {
        for (const [index, definition] of definitions.entries()) {
          events.applying?.(definition, index);
          const started = performance.now();
          await applyInside(db, history, definition, 'up', options, [...timeoutStatements(definition, options), ...check], trx);
          measured.push(performance.now() - started);
        }
      });
      return measured;
    }),
  ));
  definitions.forEach((d, i) => events.applied?.(d, durations[i]!)); // only once the batch committed
  return durations;
}


/** A failure says that the batch went with it: the migrations before the failing one were rolled back too. */
async function saidOfTheBatch<T>(size: number, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof TributaryError && size > 1) error.message += ` The --atomic batch was rolled back as one: this run applied none of its ${size} migrations.`;
    throw error;
  }
}
