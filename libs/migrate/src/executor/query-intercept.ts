/**
 * Puts a hand between a migration and the database: while `fn` runs, every query sent through
 * the ORM's connection (`this.execute()`, the entity manager, a flush) goes to `handle` instead,
 * which may answer it itself or run it. The connection is given back afterwards, whatever happens.
 */
import type { Transaction } from '@mikro-orm/core';
import type { AbstractSqlConnection } from '@mikro-orm/sql';

type Execute = AbstractSqlConnection['execute'];

export interface InterceptedQuery {
  /** The SQL with its parameters inlined, on one line (to show). */
  sql: string;
  method: 'all' | 'get' | 'run';
  ctx: Transaction | undefined;
  /** Runs it for real, in the transaction `ctx` (default: the one it was sent in). */
  run(ctx?: Transaction): Promise<unknown>;
}

export async function interceptingQueries<T>(connection: AbstractSqlConnection, handle: (query: InterceptedQuery) => Promise<unknown>, fn: () => Promise<T>): Promise<T> {
  const own = Object.getOwnPropertyDescriptor(connection, 'execute');
  const execute = connection.execute;
  connection.execute = ((query: any, params: any = [], method: any = 'all', ctx?: Transaction, loggerContext?: any) =>
    handle({
      get sql() {
        return oneLine(formatted(connection, query, params)); // only when shown: a data migration may send thousands
      },
      method,
      ctx,
      run: (inside = ctx) => execute.call(connection, query, params, method, inside, loggerContext),
    })) as Execute;
  try {
    return await fn();
  } finally {
    if (own) Object.defineProperty(connection, 'execute', own);
    else delete (connection as { execute?: Execute }).execute; // back to the class's own method
  }
}

/** Runs `sql` on the connection, past any interception (a savepoint around an intercepted query). */
export function runPlainly(connection: AbstractSqlConnection, sql: string, ctx: Transaction): Promise<unknown> {
  return Object.getPrototypeOf(connection).execute.call(connection, sql, [], 'run', ctx);
}

/** What a query that is not run answers, in the shape each result method returns. */
export function noRows(method: string): unknown {
  if (method === 'all') return [];
  if (method === 'get') return undefined;
  return { affectedRows: 0, insertId: undefined, row: undefined, rows: [] };
}

function formatted(connection: AbstractSqlConnection, query: unknown, params: unknown): string {
  try {
    return (connection as any).prepareQuery(query, params).formatted;
  } catch {
    return sqlText(query);
  }
}

const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();

/** The SQL of what a migration collected or sent: a string, a `raw()` fragment or a query builder. */
export function sqlText(query: unknown): string {
  if (typeof query === 'string') return query;
  const q = query as { sql?: string; toQuery?: () => { sql: string }; compile?: () => { sql: string } };
  return q.sql ?? q.compile?.().sql ?? String(query);
}
