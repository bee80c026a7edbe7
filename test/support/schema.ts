/**
 * A comparable description of a database's schema (columns, constraints, indexes of the
 * public schema, the history table left out), built from the catalog so that two databases
 * can be compared line by line whatever order their DDL ran in.
 */
export type Query = (sql: string) => Promise<any[]>;

export async function describeSchema(query: Query, historyTable = 'tributary_migrations'): Promise<string[]> {
  const columns = await query(`
    select table_name, column_name, data_type, udt_name, character_maximum_length, numeric_precision, numeric_scale, is_nullable, column_default
    from information_schema.columns where table_schema = 'public'`);
  const constraints = await query(`
    select cl.relname as table_name, co.conname, pg_get_constraintdef(co.oid) as def
    from pg_constraint co join pg_class cl on cl.oid = co.conrelid join pg_namespace n on n.oid = cl.relnamespace
    where n.nspname = 'public'`);
  const indexes = await query(`select tablename, indexname, indexdef from pg_indexes where schemaname = 'public'`);
  const lines = [
    ...columns
      .filter((c) => c.table_name !== historyTable)
      .map((c) => `column ${c.table_name}.${c.column_name} ${c.data_type}/${c.udt_name} len=${c.character_maximum_length} num=${c.numeric_precision},${c.numeric_scale} null=${c.is_nullable} default=${c.column_default}`),
    ...constraints.filter((c) => c.table_name !== historyTable).map((c) => `constraint ${c.table_name}.${c.conname} ${normalize(c.def)}`),
    ...indexes.filter((i) => i.tablename !== historyTable).map((i) => `index ${i.tablename}.${i.indexname} ${i.indexdef}`),
  ];
  return lines.sort();
}

function normalize(definition: string): string {
  return definition.replace(/\s+/g, ' ');
}
