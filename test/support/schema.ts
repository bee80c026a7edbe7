/**
 * A comparable description of a database's schema — every user schema, its tables' columns,
 * constraints and indexes, its native enum types and its sequences (the history table left out) —
 * built from the catalog so that two databases can be compared line by line whatever order their
 * DDL ran in. Tables of `public` are named bare, others `schema.table`.
 */
export type Query = (sql: string) => Promise<any[]>;

const USER_SCHEMA = `not in ('pg_catalog', 'information_schema', 'pg_toast') and %s not like 'pg\\_%%'`;
const userSchema = (column: string) => `${column} ${USER_SCHEMA.replaceAll('%s', column).replaceAll('%%', '%')}`;

export async function describeSchema(query: Query, historyTable = 'tributary_migrations'): Promise<string[]> {
  const name = (schema: string, table: string) => (schema === 'public' ? table : `${schema}.${table}`);
  const columns = await query(`
    select table_schema, table_name, column_name, data_type, udt_schema, udt_name, character_maximum_length, numeric_precision, numeric_scale, is_nullable, column_default
    from information_schema.columns where ${userSchema('table_schema')}`);
  const constraints = await query(`
    select n.nspname as table_schema, cl.relname as table_name, co.conname, pg_get_constraintdef(co.oid) as def
    from pg_constraint co join pg_class cl on cl.oid = co.conrelid join pg_namespace n on n.oid = cl.relnamespace
    where ${userSchema('n.nspname')}`);
  const indexes = await query(`select schemaname, tablename, indexname, indexdef from pg_indexes where ${userSchema('schemaname')}`);
  const enums = await query(`
    select n.nspname as schema, t.typname as name, string_agg(e.enumlabel, ',' order by e.enumsortorder) as labels
    from pg_type t join pg_enum e on e.enumtypid = t.oid join pg_namespace n on n.oid = t.typnamespace
    where ${userSchema('n.nspname')} group by 1, 2`);
  const sequences = await query(`select schemaname, sequencename, data_type from pg_sequences where ${userSchema('schemaname')}`);
  const schemas = await query(`select nspname from pg_namespace where ${userSchema('nspname')}`);
  const mine = (table: string) => table !== historyTable;
  const lines = [
    ...schemas.map((s) => `schema ${s.nspname}`),
    ...columns
      .filter((c) => mine(c.table_name))
      .map((c) => `column ${name(c.table_schema, c.table_name)}.${c.column_name} ${c.data_type}/${name(c.udt_schema, c.udt_name)} len=${c.character_maximum_length} num=${c.numeric_precision},${c.numeric_scale} null=${c.is_nullable} default=${c.column_default}`),
    ...constraints.filter((c) => mine(c.table_name)).map((c) => `constraint ${name(c.table_schema, c.table_name)}.${c.conname} ${normalize(c.def)}`),
    ...indexes.filter((i) => mine(i.tablename)).map((i) => `index ${name(i.schemaname, i.tablename)}.${i.indexname} ${i.indexdef}`),
    ...enums.map((e) => `enum ${name(e.schema, e.name)} (${e.labels})`),
    ...sequences.filter((s) => !s.sequencename.startsWith(`${historyTable}_`)).map((s) => `sequence ${name(s.schemaname, s.sequencename)} ${s.data_type}`),
  ];
  return lines.sort();
}

function normalize(definition: string): string {
  return definition.replace(/\s+/g, ' ');
}
