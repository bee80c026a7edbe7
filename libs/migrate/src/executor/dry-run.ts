/**
 * A dry run changes nothing: up() (or down()) runs with the ORM inside a READ ONLY transaction
 * that is always rolled back, on a database opened read-only. Its reads work; each query that
 * would write is refused by PostgreSQL, noted as "would write", and answered with no rows so
 * that the migration can go on. Its console output is held back.
 */
import type { Transaction } from '@mikro-orm/core';
import type { Database } from '../db/connection.ts';
import { describeError } from '../errors.ts';
import type { MigrationDefinition } from '../stream/migration-file.ts';
import { holdingConsole } from './console-hold.ts';
import { onTheOneSession } from './one-session.ts';
import { assertNotStoppedForEntities, startingAgainForEntities } from './entities-on-demand.ts';
import { interceptingQueries, noRows, runPlainly, sqlText, type InterceptedQuery } from './query-intercept.ts';
import { type Direction } from './run-options.ts';
import { instantiate, type CollectedSql } from './sql-reader.ts';

const SAVEPOINT = 'tributary_dry_run';

export function dryRun(db: Database, definition: MigrationDefinition, direction: Direction): Promise<CollectedSql> {
  // A generated file's up()/down() only collects SQL, known without running it (nor loading MikroORM).
  if (definition.sql) return Promise.resolve({ statements: [...definition.sql[direction]], directQueries: [], wouldWrite: [] });
  return startingAgainForEntities(db, () => dryRunOnce(db, definition, direction));
}

async function dryRunOnce(db: Database, definition: MigrationDefinition, direction: Direction): Promise<CollectedSql> {
  const connection = db.connection;
  const trx = await connection.begin({ readOnly: true });
  const directQueries: string[] = [];
  const wouldWrite: string[] = [];

  // Each query runs under a savepoint, inside the read-only transaction whatever it asked for:
  // a refused write leaves the transaction usable for what comes next.
  const readOrRefuse = async (query: InterceptedQuery) => {
    const inside: Transaction = query.ctx ?? trx;
    directQueries.push(query.sql);
    await runPlainly(connection, `savepoint ${SAVEPOINT}`, inside);
    try {
      const result = await query.run(inside);
      await runPlainly(connection, `release savepoint ${SAVEPOINT}`, inside);
      return result;
    } catch (error) {
      await runPlainly(connection, `rollback to savepoint ${SAVEPOINT}`, inside);
      if (!isReadOnlyRefusal(error)) throw error;
      wouldWrite.push(query.sql);
      return noRows(query.method);
    }
  };

  try {
    const migration = instantiate(db, definition);
    migration.setTransactionContext(trx);
    // On PGlite, its one session is this transaction's: what the migration sends past it goes into it.
    const result = await onTheOneSession(db, trx, () => interceptingQueries(connection, readOrRefuse, () => holdingConsole(async () => migration[direction]())));
    assertNotStoppedForEntities(migration);
    const statements = migration.getQueries().map(sqlText);
    if (!result.ok) {
      // What it does after a write that was not made cannot be shown; anything else is its own failure.
      if (wouldWrite.length === 0) throw result.error;
      return { statements, directQueries, wouldWrite, stoppedAfterWrite: describeError(result.error) };
    }
    return { statements, directQueries, wouldWrite };
  } finally {
    await connection.rollback(trx);
  }
}

/** SQLSTATE 25006: "cannot execute … in a read-only transaction". */
function isReadOnlyRefusal(error: unknown): boolean {
  for (let e: any = error; e; e = e.cause) if (e.code === '25006') return true;
  return /read-only transaction/i.test(describeError(error));
}
