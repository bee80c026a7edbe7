/**
 * The live schema exactly as MikroORM 7.2's `DatabaseSchema.create` introspects it — the same
 * assembly (its `loadInformationSchema`), the same rows — but faster, and right where MikroORM's
 * columns query is not: the catalog queries are sent at once over the pool instead of one after
 * another (their server time overlaps), and on PostgreSQL the columns are read from pg_catalog
 * instead of `information_schema.columns`. Drift reads a database with it, shard rebuilds the
 * replayed stream; checks/drift.test.ts holds it to MikroORM's own result on a schema with every
 * kind of column.
 */
import { DatabaseSchema, type AbstractSqlPlatform } from '@mikro-orm/sql';
import type { Database } from './connection.ts';

export async function introspect(db: Database): Promise<DatabaseSchema> {
  const { connection } = db;
  const platform = db.orm.em.getPlatform() as AbstractSqlPlatform;
  const helper = platform.getSchemaHelper() as any;
  const indexHelper = withIndexConstraintsOfTheirTable(helper); // also for materialized views' indexes
  const config = db.orm.config as any;
  const schema = new DatabaseSchema(platform, config.get('schema') ?? platform.getDefaultSchemaName());
  const [migrationsSchema, migrationsTable] = mikroOrmMigrationsTable(config, platform);
  const tables: any[] = (await helper.getAllTables(connection)).filter((t: any) => t.table_name !== migrationsTable || (t.schema_name && t.schema_name !== migrationsSchema));
  const nativeEnums = await helper.getNativeEnumDefinitions(connection, tables.length === 0 ? [schema.name] : tables.map((t) => t.schema_name));
  schema.setNativeEnums(nativeEnums);
  if (tables.length > 0) {
    const bySchema = helper.getTablesGroupedBySchemas(tables);
    const [columns, indexes, checks, fks, partitionings, triggers, policies, collation] = await Promise.all([
      helper.getAllColumns(withColumnsFromCatalog(connection, platform, bySchema), bySchema, nativeEnums),
      indexHelper.getAllIndexes(connection, tables),
      helper.getAllChecks(connection, bySchema),
      helper.getAllForeignKeys(connection, bySchema),
      helper.getPartitions(connection, bySchema),
      helper.getAllTriggers(connection, bySchema),
      helper.getAllPolicies(connection, bySchema),
      helper.getDatabaseCollation(connection),
    ]);
    for (const t of tables) {
      const key = helper.getTableKey(t);
      const table = schema.addTable(t.table_name, t.schema_name, t.table_comment);
      table.collation = collation;
      const pks = await helper.getPrimaryKeys(connection, indexes[key], table.name, table.schema);
      if (columns[key]) table.init(columns[key], indexes[key], checks[key], pks, fks[key], helper.getEnumDefinitions(checks[key] ?? []));
      if (triggers[key]) table.setTriggers(triggers[key]);
      const rls = policies[key];
      if (rls) {
        table.setPolicies(rls.policies);
        table.rlsEnabled = rls.enabled;
        table.rlsForced = rls.forced;
      }
      table.setPartitioning(partitionings[key]);
    }
  }
  // After the tables, as MikroORM adds them: the schemas of the database are listed in that order.
  await helper.loadViews(schema, connection);
  if (platform.supportsMaterializedViews()) await indexHelper.loadMaterializedViews(schema, connection);
  return schema;
}

/** MikroORM leaves its own migrations table out of an introspection (`DatabaseSchema.create`). */
function mikroOrmMigrationsTable(config: any, platform: AbstractSqlPlatform): [string, string] {
  const parts = (config.get('migrations') as { tableName: string }).tableName.split('.');
  return parts.length > 1 ? [parts[0]!, parts[1]!] : [config.get('schema', platform.getDefaultSchemaName()) as string, parts[0]!];
}

type TablesBySchema = Map<string, { table_name: string }[]>;

/**
 * `connection` for MikroORM's `getAllColumns`, answering its query from pg_catalog, so that
 * MikroORM still turns the rows into columns. Its query reads `information_schema.columns`: one
 * non-inlined function call per value (lengths, precisions, comments) and privilege checks per
 * column cost ~0.45 s of server time at a thousand tables; these rows come in about a quarter of
 * it. Only MikroORM 7.2's query, word for word, is answered so: any other (another version, a
 * patched one) goes to the server as it is.
 */
function withColumnsFromCatalog(connection: any, platform: AbstractSqlPlatform, bySchema: TablesBySchema): any {
  const theirs = mikroOrmColumnsQuery(platform, bySchema);
  return new Proxy(connection, {
    get(target, property, receiver) {
      if (property !== 'execute') return Reflect.get(target, property, receiver);
      return (sql: string, ...rest: unknown[]) => target.execute(sql === theirs ? columnsFromCatalog(platform, bySchema) : sql, ...rest);
    },
  });
}

/** MikroORM 7.2.1's columns query (`PostgreSqlSchemaHelper.getAllColumns`), character for character. */
function mikroOrmColumnsQuery(platform: AbstractSqlPlatform, bySchema: TablesBySchema): string {
  const quote = (value: string) => platform.quoteValue(value);
  return `select table_schema as schema_name, table_name, column_name,
      column_default,
      is_nullable,
      udt_name,
      udt_schema,
      pg_catalog.format_type(pga.atttypid, pga.atttypmod) format_type,
      coalesce(datetime_precision, character_maximum_length) length,
      atttypmod custom_length,
      numeric_precision,
      numeric_scale,
      data_type,
      is_identity,
      identity_generation,
      generation_expression,
      pg_catalog.col_description(pgc.oid, cols.ordinal_position::int) column_comment,
      coll.collname as collation_name
      from information_schema.columns cols
      join pg_class pgc on cols.table_name = pgc.relname
      join pg_attribute pga on pgc.oid = pga.attrelid and cols.column_name = pga.attname
      left join pg_collation coll on pga.attcollation = coll.oid and coll.collname <> 'default'
      where (${[...bySchema.entries()].map(([schema, tables]) => `(table_schema = ${quote(schema)} and table_name in (${tables.map(t => quote(t.table_name)).join(',')}))`).join(' or ')})
      order by ordinal_position`;
}

/**
 * The rows of MikroORM's columns query, value for value: `information_schema.columns` (the same
 * definition from PostgreSQL 12 to 18, with its `_pg_truetypid`/`_pg_truetypmod` and length and
 * precision functions written out inline) restricted to the same tables, plus what MikroORM joins
 * to it (type as `format_type` gives it, typmod, comment, collation). One difference on purpose:
 * MikroORM joins `pg_class` by name only, so a column also took the comment, collation and typmod
 * of any relation of the same name in another schema (a table, a view, an index, a sequence, a
 * composite type — even information_schema's own views); here each column is joined to its table.
 * The comment is looked up per column (one probe of pg_description's unique index): joined, the
 * planner, which expects a few hundred columns, sorted every column to a merge join instead
 * (~30–40 ms of ~170 at a thousand tables, spilling to disk).
 */
function columnsFromCatalog(platform: AbstractSqlPlatform, bySchema: TablesBySchema): string {
  const quote = (value: string) => platform.quoteValue(value);
  const wanted = [...bySchema.entries()].map(([schema, tables]) => `(nc.nspname = ${quote(schema)} and c.relname in (${tables.map((t) => quote(t.table_name)).join(',')}))`).join(' or ');
  // Type oids: 1082 date; 1083 time, 1114 timestamp, 1184 timestamptz, 1266 timetz; 1186 interval;
  // 1042 bpchar, 1043 varchar; 1560 bit, 1562 varbit; 21 int2, 23 int4, 20 int8, 700 float4, 701 float8, 1700 numeric.
  return `select nc.nspname::text as schema_name, c.relname::text as table_name, a.attname::text as column_name,
      case when a.attgenerated = '' then pg_get_expr(ad.adbin, ad.adrelid) end as column_default,
      case when a.attnotnull or (t.typtype = 'd' and t.typnotnull) then 'NO' else 'YES' end as is_nullable,
      coalesce(bt.typname, t.typname)::text as udt_name,
      coalesce(nbt.nspname, nt.nspname)::text as udt_schema,
      pg_catalog.format_type(a.atttypid, a.atttypmod) as format_type,
      coalesce(
        -- datetime_precision
        case when tt.truetypid = 1082 then 0
             when tt.truetypid in (1083, 1114, 1184, 1266) then case when tt.truetypmod < 0 then 6 else tt.truetypmod end
             when tt.truetypid = 1186 then case when tt.truetypmod < 0 or tt.truetypmod & 65535 = 65535 then 6 else tt.truetypmod & 65535 end end,
        -- character_maximum_length
        case when tt.truetypmod = -1 then null when tt.truetypid in (1042, 1043) then tt.truetypmod - 4 when tt.truetypid in (1560, 1562) then tt.truetypmod end) as length,
      a.atttypmod as custom_length,
      case tt.truetypid when 21 then 16 when 23 then 32 when 20 then 64 when 700 then 24 when 701 then 53
                 when 1700 then case when tt.truetypmod = -1 then null else ((tt.truetypmod - 4) >> 16) & 65535 end end as numeric_precision,
      case when tt.truetypid in (21, 23, 20) then 0 when tt.truetypid = 1700 then case when tt.truetypmod = -1 then null else (tt.truetypmod - 4) & 65535 end end as numeric_scale,
      case when t.typtype = 'd' then
             case when bt.typelem <> 0 and bt.typlen = -1 then 'ARRAY' when nbt.nspname = 'pg_catalog' then format_type(t.typbasetype, null) else 'USER-DEFINED' end
           else
             case when t.typelem <> 0 and t.typlen = -1 then 'ARRAY' when nt.nspname = 'pg_catalog' then format_type(a.atttypid, null) else 'USER-DEFINED' end
      end as data_type,
      case when a.attidentity in ('a', 'd') then 'YES' else 'NO' end as is_identity,
      case a.attidentity when 'a' then 'ALWAYS' when 'd' then 'BY DEFAULT' end as identity_generation,
      case when a.attgenerated <> '' then pg_get_expr(ad.adbin, ad.adrelid) end as generation_expression,
      (select d.description from pg_description d where d.objoid = a.attrelid and d.classoid = 'pg_catalog.pg_class'::regclass and d.objsubid = a.attnum) as column_comment,
      coll.collname::text as collation_name
    from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      join pg_namespace nc on nc.oid = c.relnamespace
      join pg_type t on t.oid = a.atttypid
      join pg_namespace nt on nt.oid = t.typnamespace
      left join (pg_type bt join pg_namespace nbt on nbt.oid = bt.typnamespace) on t.typtype = 'd' and t.typbasetype = bt.oid
      left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
      left join pg_collation coll on coll.oid = a.attcollation and coll.collname <> 'default'
      cross join lateral (select case when t.typtype = 'd' then t.typbasetype else a.atttypid end as truetypid,
                                 case when t.typtype = 'd' then t.typtypmod else a.atttypmod end as truetypmod) tt
    where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'v', 'f', 'p') and not pg_is_other_temp_schema(nc.oid)
      and (pg_has_role(c.relowner, 'USAGE') or has_column_privilege(c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES'))
      and (${wanted})
    order by a.attnum`;
}

/** The join of MikroORM 7.2's indexes query from an index to the constraint it backs: by name only. */
const CONSTRAINT_BY_NAME = 'left join pg_constraint as c on c.conname = i.relname\n';

/**
 * `helper` whose indexes query joins each index to the constraint of its own table. MikroORM's
 * joins by name only, so the primary keys of `public.entry` and `ledger.entry` (both
 * `entry_pkey`) each came twice, once with the other's deferrability, and an index was taken for
 * a constraint another table has under its name. A query without that join goes as it is.
 */
function withIndexConstraintsOfTheirTable(helper: any): any {
  const fixed = Object.create(helper);
  fixed.getIndexesSQL = (tables: unknown) => {
    const sql: string = helper.getIndexesSQL(tables);
    return sql.includes(CONSTRAINT_BY_NAME) ? sql.replace(CONSTRAINT_BY_NAME, 'left join pg_constraint as c on c.conname = i.relname and c.conrelid = idx.indrelid\n') : sql;
  };
  return fixed;
}
