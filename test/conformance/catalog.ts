/**
 * The conformance suite's view of a database: every user schema with its tables, columns,
 * constraints, indexes, native enum types (labels in order) and sequences (type, owning column),
 * one normalised line per object, sorted, so that two databases built by different routes can be
 * compared line by line. Tributary's history table (and its sequence) is left out.
 */
export type Query = (sql: string) => Promise<any[]>;

const SYSTEM = `not in ('pg_catalog', 'information_schema', 'pg_toast') and %s not like 'pg\\_temp%' and %s not like 'pg\\_toast%'`;
const userNamespace = (column: string) => `${column} ${SYSTEM.replaceAll('%s', column)}`;

export async function catalogLines(query: Query, historyTable = 'tributary_migrations'): Promise<string[]> {
  const skip = (table: string) => table === `public.${historyTable}`;
  const lines: string[] = [];
  for (const row of await query(`select nspname from pg_namespace where ${userNamespace('nspname')}`)) lines.push(`schema ${row.nspname}`);
  const tables = await query(`
    select n.nspname || '.' || c.relname as qualified, c.relkind
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p', 'v', 'm') and ${userNamespace('n.nspname')}`);
  for (const row of tables) if (!skip(row.qualified)) lines.push(`relation ${row.qualified} kind=${row.relkind}`);
  const columns = await query(`
    select n.nspname || '.' || c.relname as qualified, a.attname, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull,
           pg_get_expr(d.adbin, d.adrelid) as default_expr, a.attidentity, a.attgenerated, coll.collname
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    left join pg_collation coll on coll.oid = a.attcollation and a.attcollation <> (select oid from pg_collation where collname = 'default')
    where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'v', 'm') and ${userNamespace('n.nspname')}`);
  for (const row of columns) {
    if (skip(row.qualified)) continue;
    const extras = [row.attnotnull ? 'not null' : 'null', row.default_expr ? `default ${row.default_expr}` : '', row.attidentity ? `identity ${row.attidentity}` : '', row.attgenerated ? `generated ${row.attgenerated}` : '', row.collname ? `collate ${row.collname}` : ''];
    lines.push(`column ${row.qualified}.${row.attname} ${row.type} ${extras.filter(Boolean).join(' ')}`);
  }
  const constraints = await query(`
    select n.nspname || '.' || c.relname as qualified, co.conname, pg_get_constraintdef(co.oid) as def
    from pg_constraint co join pg_class c on c.oid = co.conrelid join pg_namespace n on n.oid = c.relnamespace
    where ${userNamespace('n.nspname')}`);
  for (const row of constraints) if (!skip(row.qualified)) lines.push(`constraint ${row.qualified}.${row.conname} ${squeeze(row.def)}`);
  const indexes = await query(`select schemaname || '.' || tablename as qualified, indexname, indexdef from pg_indexes where ${userNamespace('schemaname')}`);
  for (const row of indexes) if (!skip(row.qualified)) lines.push(`index ${row.qualified}.${row.indexname} ${squeeze(row.indexdef)}`);
  const enums = await query(`
    select n.nspname || '.' || t.typname as qualified, array_agg(e.enumlabel order by e.enumsortorder)::text as labels
    from pg_type t join pg_enum e on e.enumtypid = t.oid join pg_namespace n on n.oid = t.typnamespace
    where ${userNamespace('n.nspname')} group by 1`);
  for (const row of enums) lines.push(`enum ${row.qualified} ${row.labels}`);
  const sequences = await query(`
    select s.schemaname || '.' || s.sequencename as qualified, s.data_type, s.increment_by, s.min_value, s.max_value,
           (select dn.nspname || '.' || dc.relname || '.' || a.attname
              from pg_depend d join pg_class dc on dc.oid = d.refobjid join pg_namespace dn on dn.oid = dc.relnamespace
              join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
             where d.objid = (quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename))::regclass and d.classid = 'pg_class'::regclass and d.deptype in ('a', 'i')
             limit 1) as owned_by
    from pg_sequences s where ${userNamespace('s.schemaname')}`);
  for (const row of sequences) {
    if (row.owned_by && skip(row.owned_by.split('.').slice(0, 2).join('.'))) continue;
    lines.push(`sequence ${row.qualified} as ${row.data_type} increment ${row.increment_by} range ${row.min_value}..${row.max_value} owned by ${row.owned_by ?? 'none'}`);
  }
  return lines.sort();
}

/** What one catalog has that the other lacks, both ways (empty lists when they are the same). */
export function catalogDifference(actual: string[], expected: string[]): { missing: string[]; unexpected: string[] } {
  const have = new Set(actual);
  const want = new Set(expected);
  return { missing: expected.filter((line) => !have.has(line)), unexpected: actual.filter((line) => !want.has(line)) };
}

function squeeze(definition: string): string {
  return definition.replace(/\s+/g, ' ').trim();
}
