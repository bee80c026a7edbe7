/**
 * Keeps a migration on the embedded PGlite database from waiting for itself. PGlite has one
 * session, which a migration's transaction holds while its up() or down() runs: anything the
 * migration sends past that transaction would wait for it forever — a query without the
 * transaction context (`em.getConnection().execute()`), a transaction of its own (`em.fork()`
 * flushing, `em.fork().transactional()`), Kysely's client (`getConnection().getClient()`). While
 * up() or down() runs, the ORM's connection sends them into that transaction instead (a
 * transaction of its own becomes a savepoint): applied with the migration, rolled back with it.
 */
import type { Transaction } from '@mikro-orm/core';
import type { AbstractSqlConnection } from '@mikro-orm/sql';
import type { Database } from '../db/connection.ts';
import { interceptingQueries } from './query-intercept.ts';

/**
 * Runs `fn` (a migration's up() or down() inside `trx`) with everything it sends kept in `trx`, on
 * PGlite; elsewhere as it is. A query without a context runs in `trx`, a transaction begun without
 * one is a savepoint of `trx`, and the Kysely client is `trx` (a Kysely transaction builds and runs
 * queries as the client does). The connection is given back afterwards, whatever happens.
 */
export async function onTheOneSession<T>(db: Database, trx: Transaction, fn: () => Promise<T>): Promise<T> {
  if (db.kind !== 'pglite') return fn(); // PostgreSQL: the ORM's pool has other connections for them
  const connection = db.connection;
  const patched = connection as { begin: AbstractSqlConnection['begin']; getClient: AbstractSqlConnection['getClient'] };
  const own = { begin: Object.getOwnPropertyDescriptor(connection, 'begin'), getClient: Object.getOwnPropertyDescriptor(connection, 'getClient') };
  const begin = connection.begin;
  patched.begin = (options = {}) => begin.call(connection, { ...options, ctx: options.ctx ?? trx });
  patched.getClient = (() => trx) as unknown as AbstractSqlConnection['getClient'];
  try {
    return await interceptingQueries(connection, (query) => query.run(query.ctx ?? trx), fn);
  } finally {
    for (const name of ['begin', 'getClient'] as const) {
      const descriptor = own[name];
      if (descriptor) Object.defineProperty(connection, name, descriptor);
      else delete (connection as Partial<typeof patched>)[name]; // back to the class's own method
    }
  }
}
