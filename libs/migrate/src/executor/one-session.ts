/**
 * Keeps a migration on the embedded PGlite database from waiting for itself. PGlite has one
 * session, which a transactional migration's transaction holds while its up() or down() runs: a
 * query the migration sends past that transaction (`em.getConnection().execute()` without the
 * transaction context) would wait for it forever. Such a query runs inside the transaction
 * instead — applied with the migration, rolled back with it. A wait nothing can redirect (Kysely's
 * client used directly) ends the run with a sentence naming the migration, not a silent exit.
 */
import { relative } from 'node:path';
import type { Transaction } from '@mikro-orm/core';
import type { Database } from '../db/connection.ts';
import type { MigrationDefinition } from '../stream/migration-file.ts';
import { interceptingQueries } from './query-intercept.ts';

export async function onTheOneSession<T>(db: Database, trx: Transaction, definition: MigrationDefinition, root: string, fn: () => Promise<T>): Promise<T> {
  if (db.kind !== 'pglite') return fn(); // PostgreSQL: the ORM's pool has another connection for it
  // Node is about to stop with fn() unsettled: nothing else can ever end the wait. The transaction
  // is not committed (nothing of the migration is applied); exit before Node's silent code 13.
  const stalled = () => {
    process.stderr.write(`error: Migration ${relative(root, definition.entry.file)} never finished: it waits for a query it sent outside its transaction, which the embedded database (one session) cannot run until the transaction ends. Query through this.execute() or this.getEntityManager(), or pass the transaction (em.getTransactionContext()); nothing of it was applied.\n`);
    process.exit(1);
  };
  process.once('beforeExit', stalled);
  try {
    return await interceptingQueries(db.connection, (query) => query.run(query.ctx ?? trx), fn);
  } finally {
    process.off('beforeExit', stalled);
  }
}
