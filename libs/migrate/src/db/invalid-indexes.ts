/**
 * Lists INVALID indexes (pg_index.indisvalid = false): what a failed `CREATE INDEX CONCURRENTLY`
 * leaves behind, which the user must drop before the migration can run again.
 */
import type { PinnedSession } from './connection.ts';

/** Schema-qualified names of every invalid index outside the system schemas. */
export async function invalidIndexes(session: PinnedSession): Promise<string[]> {
  const rows = await session.query<{ name: string }>(
    `select format('%I.%I', n.nspname, c.relname) as "name"
       from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
      where not i.indisvalid and n.nspname not in ('pg_catalog', 'information_schema')
      order by 1`,
  );
  return rows.map((row) => row.name);
}
