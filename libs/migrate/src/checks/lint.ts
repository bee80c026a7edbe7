/**
 * Lint: parses the SQL of a set of migrations with PostgreSQL's own parser (libpg-query) and
 * flags changes that destroy data (errors) or lock busy tables (warnings), each with how to do it
 * safely. A table is "existing" unless a migration earlier in the same set created it. A file
 * acknowledges a finding with `static allow = [{ rule, reason }]` (or just the rule id).
 */
import { relative } from 'node:path';
import { TributaryError, describeError } from '../errors.ts';
import { collectSql, sqlReader } from '../executor/sql-reader.ts';
import type { MigrationDefinition } from '../stream/migration-file.ts';

export type Severity = 'error' | 'warning';

export interface LintRule {
  id: string;
  severity: Severity;
  /** How to make the same change without the risk. */
  safely: string;
}

export const RULES = {
  'drop-table': {
    id: 'drop-table',
    severity: 'error',
    safely: 'stop using the table in a release first, keep a backup (`migrate --backup`), then drop it in a later migration and acknowledge it with static allow.',
  },
  'drop-column': {
    id: 'drop-column',
    severity: 'error',
    safely: 'deploy code that no longer reads or writes the column first, then drop it in a later migration and acknowledge it with static allow.',
  },
  'narrow-type': {
    id: 'narrow-type',
    severity: 'error',
    safely: 'add a new column of the narrower type, backfill it in batches checking every value fits, switch the code over, then drop the old column.',
  },
  'change-type': {
    id: 'change-type',
    severity: 'warning',
    safely: 'changing a column type usually rewrites the table under an ACCESS EXCLUSIVE lock: add a new column, backfill it in batches, then swap.',
  },
  'not-null-without-default': {
    id: 'not-null-without-default',
    severity: 'warning',
    safely: 'add the column nullable (or with a DEFAULT), backfill it in batches, add a CHECK (col IS NOT NULL) NOT VALID constraint, VALIDATE it, then SET NOT NULL.',
  },
  'drop-default': {
    id: 'drop-default',
    severity: 'warning',
    safely: 'deploy code that sets the column on every insert first (code still running may leave it out and rely on the default), then drop the default in a later migration.',
  },
  'index-not-concurrently': {
    id: 'index-not-concurrently',
    severity: 'warning',
    safely: 'use CREATE INDEX CONCURRENTLY in its own migration with static transactional = false (for a unique constraint: build the unique index concurrently, then ADD CONSTRAINT … USING INDEX).',
  },
  'rename-column': {
    id: 'rename-column',
    severity: 'warning',
    safely: 'running code still uses the old name: add the new column, write to both, backfill, switch reads, then drop the old one (or acknowledge when no running code uses it).',
  },
  'rename-table': {
    id: 'rename-table',
    severity: 'warning',
    safely: 'running code still uses the old name: create a view with the old name during the switch, or acknowledge when no running code uses it.',
  },
  'foreign-key-not-valid': {
    id: 'foreign-key-not-valid',
    severity: 'warning',
    safely: 'add the foreign key with NOT VALID (no scan, brief lock), then ALTER TABLE … VALIDATE CONSTRAINT in a later migration.',
  },
  'transaction-control': {
    id: 'transaction-control',
    severity: 'error',
    safely: 'leave transaction control to Tributary: each transactional migration already runs in one transaction with its history row; split the work into two migrations instead of COMMIT/BEGIN inside one.',
  },
  'concurrently-in-transaction': {
    id: 'concurrently-in-transaction',
    severity: 'error',
    safely: 'PostgreSQL refuses CONCURRENTLY inside a transaction: put the statement in its own migration with static transactional = false.',
  },
  unlintable: {
    id: 'unlintable',
    severity: 'warning',
    safely: 'keep schema changes in this.addSql(…) and data access that needs a database in a separate data migration, so lint can read the SQL.',
  },
  'syntax-error': {
    id: 'syntax-error',
    severity: 'error',
    safely: 'fix the SQL: PostgreSQL would reject this statement when the migration runs.',
  },
} as const satisfies Record<string, LintRule>;

export type RuleId = keyof typeof RULES;

export interface LintFinding {
  rule: RuleId;
  severity: Severity;
  migration: string;
  /** The migration file, relative to the workspace root. */
  file: string;
  /** The offending statement, whitespace collapsed. */
  statement: string;
  message: string;
  safely: string;
  /** Present when the file acknowledges the finding with `static allow`. */
  allowed?: { reason: string | null };
}

export interface LintReport {
  ok: boolean;
  /** The migrations that were linted, in order. */
  migrations: string[];
  findings: LintFinding[];
  errors: number;
  warnings: number;
  allowed: number;
  /**
   * The linted migrations no lint error can come from whatever runs before them: all their SQL is
   * known and parses, and no statement is an error on its own (every table taken as existing),
   * changes a column type (a narrowing depends on the types before) or controls the transaction.
   */
  harmless: string[];
}

/** SQL of a migration's up() (and down(), which tells what a type change changes from). */
export interface MigrationSql {
  up: string[];
  down: string[];
  /** Why up() could not be run offline (it queried the database through the entity manager, say). */
  failure?: string;
}

/**
 * Collects what each migration would run without a database and without running any query of
 * its own: the migration class is instantiated with the driver of a MikroORM that cannot connect
 * (`sqlReader`), which `addSql` needs; its queries are noted and answer no rows.
 */
export async function collectOffline(definitions: MigrationDefinition[]): Promise<Map<string, MigrationSql>> {
  const result = new Map<string, MigrationSql>();
  for (const definition of definitions) {
    if (definition.sql) {
      result.set(definition.entry.name, { up: definition.sql.up, down: definition.sql.down }); // read from the file, nothing to run
      continue;
    }
    const offline = sqlReader();
    const none = { statements: [] as string[], directQueries: [] as string[] };
    let failure: string | undefined;
    const up = await collectSql(offline, definition, 'up').catch((error) => ((failure = describeError(error)), none));
    const down = await collectSql(offline, definition, 'down').catch(() => none);
    result.set(definition.entry.name, { up: [...up.statements, ...up.directQueries], down: [...down.statements, ...down.directQueries], failure });
  }
  return result;
}

export async function lintMigrations(definitions: MigrationDefinition[], root: string, options: { strict?: boolean } = {}): Promise<LintReport> {
  const sqlOf = definitions.length > 0 ? await collectOffline(definitions) : new Map<string, MigrationSql>();
  const seen: Seen = { tables: new Set(), types: new Map() };
  const findings: LintFinding[] = [];
  const harmless: string[] = [];
  for (const definition of definitions) {
    const allow = allowList(definition, root);
    const sql = sqlOf.get(definition.entry.name)!;
    const raw: Array<Omit<LintFinding, 'migration' | 'file' | 'severity' | 'safely' | 'allowed'>> = [];
    if (sql.failure) raw.push({ rule: 'unlintable', statement: '', message: `up() could not run without a database (${sql.failure}), so its SQL was not linted.` });
    const parsed: Statement[] = [];
    for (const text of sql.up) {
      try {
        parsed.push(...(await statementsOf(text)));
      } catch (error) {
        parsed.push({ node: {}, text: oneLine(text), syntaxError: `SQL syntax error: ${describeError(error)}.` });
      }
    }
    // down() tells what a type change changes from: parsed only when up() changes a type.
    const oldTypes = parsed.some(({ node }) => changesColumnType(node)) ? await typesChangedBy(sql.down) : new Map<string, ColumnType>();
    if (!sql.failure && harmlessAlone(parsed, definition.transactional)) harmless.push(definition.entry.name);
    for (const statement of parsed) {
      if (statement.syntaxError) {
        raw.push({ rule: 'syntax-error', statement: statement.text, message: statement.syntaxError });
        continue;
      }
      raw.push(...inspect(statement, seen, oldTypes));
      if (definition.transactional) raw.push(...transactionProblems(statement));
    }
    for (const finding of raw) {
      const rule = RULES[finding.rule];
      const acknowledged = allow.get(finding.rule);
      findings.push({
        ...finding,
        severity: rule.severity,
        migration: definition.entry.name,
        file: relative(root, definition.entry.file),
        safely: rule.safely,
        ...(acknowledged !== undefined ? { allowed: { reason: acknowledged } } : {}),
      });
    }
  }
  const counted = findings.filter((f) => !f.allowed);
  const errors = counted.filter((f) => f.severity === 'error').length;
  const warnings = counted.filter((f) => f.severity === 'warning').length;
  return {
    ok: errors === 0 && (!options.strict || warnings === 0),
    migrations: definitions.map((d) => d.entry.name),
    findings,
    errors,
    warnings,
    allowed: findings.length - counted.length,
    harmless,
  };
}

/** Whether a migration's statements are no error whatever ran before them (see `LintReport.harmless`). */
function harmlessAlone(statements: Statement[], transactional: boolean): boolean {
  const ownOnly: Seen = { tables: new Set(), types: new Map() }; // every table not created by these statements exists
  return statements.every((statement) => {
    if (statement.syntaxError || changesColumnType(statement.node)) return false;
    const raw = [...inspect(statement, ownOnly, new Map()), ...(transactional ? transactionProblems(statement) : [])];
    return raw.every((finding) => RULES[finding.rule].severity !== 'error');
  });
}

/** `static allow`: rule id → reason (null when none was given). Unknown rule ids are a mistake. */
function allowList(definition: MigrationDefinition, root: string): Map<string, string | null> {
  const where = () => relative(root, definition.entry.file);
  // A generated file read, not imported, acknowledges nothing (and its class need not be built).
  const allow = definition.sql ? [] : (definition.migrationClass.allow ?? []);
  if (!Array.isArray(allow)) throw new TributaryError(`Migration ${where()}: static allow must be an array of rule ids or { rule, reason } objects.`);
  const result = new Map<string, string | null>();
  for (const item of allow) {
    const rule = typeof item === 'string' ? item : item?.rule;
    if (typeof rule !== 'string' || !(rule in RULES)) {
      throw new TributaryError(`Migration ${where()}: static allow names an unknown lint rule ${JSON.stringify(rule)} (known: ${Object.keys(RULES).join(', ')}).`);
    }
    result.set(rule, typeof item === 'string' ? null : (item.reason ?? null));
  }
  return result;
}

// --- parsing -------------------------------------------------------------------------------

export type Node = Record<string, any>;

export interface Statement {
  node: Node;
  text: string;
  /** The statement PostgreSQL's parser rejected (then `node` is empty). */
  syntaxError?: string;
}

// Loaded on first use: the WASM parser costs a few hundred ms that other commands should not pay.
let parser: Promise<typeof import('libpg-query')> | undefined;

async function loadParser(): Promise<typeof import('libpg-query')> {
  const module = await import('libpg-query');
  await module.loadModule();
  return module;
}

let parsedCount = 0;

/** How many SQL texts this process has parsed so far (for tests). */
export function statementsParsed(): number {
  return parsedCount;
}

/** The statements of `sql`, parsed by PostgreSQL's own parser (libpg-query); throws on a syntax error. */
export async function statementsOf(sql: string): Promise<Statement[]> {
  // The synchronous parse of the loaded module: the same parser, without a promise per statement.
  const { parseSync } = await (parser ??= loadParser());
  parsedCount++;
  const tree = parseSync(sql);
  return (tree.stmts ?? []).map((raw: Node) => {
    const start = raw.stmt_location ?? 0;
    const text = raw.stmt_len ? sql.slice(start, start + raw.stmt_len) : sql.slice(start);
    return { node: raw.stmt, text: oneLine(text) };
  });
}

/** A statement on one line, without its `;` (as plan and lint show it). */
export const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim().replace(/;$/, '');

export function tableName(range: Node | undefined): string {
  return `${range?.schemaname ?? 'public'}.${range?.relname}`;
}

const display = (table: string) => (table.startsWith('public.') ? table.slice(7) : table);

/** A column type as `name(mod, …)`, e.g. `varchar(120)`, `int4`, `numeric(10,2)`; arrays end in `[]`. */
interface ColumnType {
  name: string;
  mods: number[];
  array: boolean;
}

function typeOf(typeName: Node | undefined): ColumnType | undefined {
  if (!typeName) return undefined;
  const names = (typeName.names ?? []).map((n: Node) => n.String?.sval).filter((n: string) => n && n !== 'pg_catalog');
  const mods = (typeName.typmods ?? []).map((m: Node) => m.A_Const?.ival?.ival).filter((n: unknown) => typeof n === 'number');
  return { name: ALIASES[names.at(-1)] ?? names.at(-1), mods, array: Boolean(typeName.arrayBounds?.length) };
}

const ALIASES: Record<string, string> = {
  smallint: 'int2', integer: 'int4', int: 'int4', bigint: 'int8', serial: 'int4', bigserial: 'int8', smallserial: 'int2',
  real: 'float4', 'double precision': 'float8', decimal: 'numeric', 'character varying': 'varchar', character: 'bpchar', char: 'bpchar',
  timestamp: 'timestamp', timestamptz: 'timestamptz', bool: 'bool', boolean: 'bool',
};

const showType = (t: ColumnType) => `${t.name}${t.mods.length ? `(${t.mods.join(',')})` : ''}${t.array ? '[]' : ''}`;

function changesColumnType(node: Node): boolean {
  return (node.AlterTableStmt?.cmds ?? []).some((cmd: Node) => cmd.AlterTableCmd?.subtype === 'AT_AlterColumnType');
}

/** `ALTER COLUMN … TYPE` statements of down(): the type each column had before up() changed it. */
async function typesChangedBy(down: string[]): Promise<Map<string, ColumnType>> {
  const types = new Map<string, ColumnType>();
  for (const sql of down) {
    let statements: Statement[];
    try {
      statements = await statementsOf(sql);
    } catch {
      continue;
    }
    for (const { node } of statements) {
      for (const cmd of node.AlterTableStmt?.cmds ?? []) {
        const c = cmd.AlterTableCmd;
        if (c?.subtype === 'AT_AlterColumnType') {
          const type = typeOf(c.def?.ColumnDef?.typeName);
          if (type) types.set(`${tableName(node.AlterTableStmt.relation)}.${c.name}`, type);
        }
      }
    }
  }
  return types;
}

const INTEGER_RANK: Record<string, number> = { int2: 1, int4: 2, int8: 3, numeric: 4 };
const FLOAT_RANK: Record<string, number> = { float4: 1, float8: 2 };
const TEXT_TYPES = new Set(['varchar', 'bpchar', 'text']);

/** True when converting `from` to `to` can lose or reject existing values. */
export function narrows(from: ColumnType, to: ColumnType): boolean {
  if (from.array !== to.array) return true;
  if (to.name === 'text' && TEXT_TYPES.has(from.name)) return false;
  if (from.name === to.name) {
    if (from.mods.length === 0) return to.mods.length > 0 && !['timestamp', 'timestamptz', 'time', 'timetz'].includes(to.name);
    if (to.mods.length === 0) return false;
    if (from.name === 'numeric') return (to.mods[0] ?? 0) - (to.mods[1] ?? 0) < (from.mods[0] ?? 0) - (from.mods[1] ?? 0) || (to.mods[1] ?? 0) < (from.mods[1] ?? 0);
    return to.mods[0]! < from.mods[0]!;
  }
  if (from.name === 'varchar' && to.name === 'varchar') return false;
  if (from.name in INTEGER_RANK && to.name in INTEGER_RANK) return INTEGER_RANK[to.name]! < INTEGER_RANK[from.name]! || (to.name === 'numeric' && to.mods.length > 0);
  if (from.name in FLOAT_RANK && to.name in FLOAT_RANK) return FLOAT_RANK[to.name]! < FLOAT_RANK[from.name]!;
  if (from.name === 'timestamp' && to.name === 'timestamptz') return false;
  return true;
}

// --- rules ---------------------------------------------------------------------------------

/**
 * What a transactional migration must not contain: its own transaction control (a COMMIT would
 * commit half the migration without its history row) and statements PostgreSQL refuses inside a
 * transaction block (CONCURRENTLY).
 */
function transactionProblems({ node, text }: Statement): RawFinding[] {
  // Savepoints (SAVEPOINT, RELEASE, ROLLBACK TO) stay inside the migration's transaction: fine.
  if (node.TransactionStmt && !['TRANS_STMT_SAVEPOINT', 'TRANS_STMT_RELEASE', 'TRANS_STMT_ROLLBACK_TO'].includes(node.TransactionStmt.kind)) {
    return [{ rule: 'transaction-control', statement: text, message: `Controls the transaction itself (${text.split(' ')[0]!.toUpperCase()}) inside a transactional migration, which already runs in one transaction with its history row.` }];
  }
  const concurrently =
    node.IndexStmt?.concurrent ||
    node.DropStmt?.concurrent ||
    (node.ReindexStmt?.params ?? []).some((p: Node) => p.DefElem?.defname === 'concurrently');
  if (concurrently) return [{ rule: 'concurrently-in-transaction', statement: text, message: 'Uses CONCURRENTLY in a transactional migration: PostgreSQL refuses it inside a transaction block.' }];
  return [];
}

type RawFinding = Omit<LintFinding, 'migration' | 'file' | 'severity' | 'safely' | 'allowed'>;

/** What the linted set has done so far: the tables it created, the column types it set. */
interface Seen {
  tables: Set<string>;
  types: Map<string, ColumnType>;
}

/** Findings of one statement; records the tables it creates and the column types it sets. */
function inspect({ node, text }: Statement, seen: Seen, oldTypes: Map<string, ColumnType>): RawFinding[] {
  const { tables: created, types: knownTypes } = seen;
  const found: RawFinding[] = [];
  const add = (rule: RuleId, message: string) => found.push({ rule, statement: text, message });

  if (node.CreateStmt) {
    created.add(tableName(node.CreateStmt.relation));
    for (const element of node.CreateStmt.tableElts ?? []) {
      const column = element.ColumnDef;
      const type = typeOf(column?.typeName);
      if (column && type) knownTypes.set(`${tableName(node.CreateStmt.relation)}.${column.colname}`, type);
    }
  }
  if (node.CreateTableAsStmt) created.add(tableName(node.CreateTableAsStmt.into?.rel));

  if (node.DropStmt?.removeType === 'OBJECT_TABLE') {
    for (const object of node.DropStmt.objects ?? []) {
      const parts = (object.List?.items ?? []).map((i: Node) => i.String?.sval);
      const table = parts.length > 1 ? parts.join('.') : `public.${parts[0]}`;
      if (!created.has(table)) add('drop-table', `Drops table "${display(table)}" and all its data.`);
      created.delete(table);
    }
  }

  if (node.IndexStmt && !node.IndexStmt.concurrent) {
    const table = tableName(node.IndexStmt.relation);
    if (!created.has(table)) add('index-not-concurrently', `Creates index ${node.IndexStmt.idxname ? `"${node.IndexStmt.idxname}" ` : ''}on existing table "${display(table)}" without CONCURRENTLY, blocking writes to it while the index builds.`);
  }

  if (node.RenameStmt) {
    const r = node.RenameStmt;
    const table = tableName(r.relation);
    if (r.renameType === 'OBJECT_COLUMN' && !created.has(table)) add('rename-column', `Renames column "${display(table)}"."${r.subname}" to "${r.newname}"; code still running uses the old name.`);
    if (r.renameType === 'OBJECT_TABLE' && !created.has(table)) add('rename-table', `Renames table "${display(table)}" to "${r.newname}"; code still running uses the old name.`);
    if (r.renameType === 'OBJECT_TABLE' && created.has(table)) created.add(`${r.relation?.schemaname ?? 'public'}.${r.newname}`);
  }

  if (node.AlterTableStmt && node.AlterTableStmt.objtype === 'OBJECT_TABLE') {
    const table = tableName(node.AlterTableStmt.relation);
    const existing = !created.has(table);
    for (const cmd of node.AlterTableStmt.cmds ?? []) {
      const c = cmd.AlterTableCmd;
      if (!c) continue;
      switch (c.subtype) {
        case 'AT_DropColumn':
          if (existing) add('drop-column', `Drops column "${display(table)}"."${c.name}" and its data.`);
          break;
        case 'AT_AddColumn': {
          const column = c.def?.ColumnDef;
          const constraints = (column?.constraints ?? []).map((k: Node) => k.Constraint?.contype);
          const type = typeOf(column?.typeName);
          if (type) knownTypes.set(`${table}.${column.colname}`, type);
          if (existing && (constraints.includes('CONSTR_NOTNULL') || constraints.includes('CONSTR_PRIMARY')) && !constraints.includes('CONSTR_DEFAULT') && !constraints.includes('CONSTR_IDENTITY') && !column?.typeName?.names?.some((n: Node) => /serial$/.test(n.String?.sval ?? ''))) {
            add('not-null-without-default', `Adds NOT NULL column "${display(table)}"."${column.colname}" without a default: it fails if the table has rows.`);
          }
          if (existing && constraints.includes('CONSTR_FOREIGN')) add('foreign-key-not-valid', `Adds column "${display(table)}"."${column.colname}" with a foreign key, validated at once under lock.`);
          break;
        }
        case 'AT_ColumnDefault':
          // No expression: DROP DEFAULT. Inserts that leave the column out now get NULL, or fail on NOT NULL.
          if (existing && !c.def) add('drop-default', `Drops the default of "${display(table)}"."${c.name}": inserts that leave the column out (code still running, other services) get NULL, or fail if it is NOT NULL.`);
          break;
        case 'AT_SetNotNull':
          if (existing) add('not-null-without-default', `Sets "${display(table)}"."${c.name}" NOT NULL: scans the whole table under an ACCESS EXCLUSIVE lock, and fails if any row is null.`);
          break;
        case 'AT_AlterColumnType': {
          const key = `${table}.${c.name}`;
          const to = typeOf(c.def?.ColumnDef?.typeName);
          const from = knownTypes.get(key) ?? oldTypes.get(key);
          if (to && from && narrows(from, to)) add('narrow-type', `Changes "${display(table)}"."${c.name}" from ${showType(from)} to ${showType(to)}, which can truncate or reject existing values.`);
          else if (to && !from && existing) add('change-type', `Changes the type of "${display(table)}"."${c.name}" to ${showType(to)} (the old type is unknown here), which usually rewrites the table under lock.`);
          if (to) knownTypes.set(key, to);
          break;
        }
        case 'AT_AddConstraint': {
          const k = c.def?.Constraint;
          if (!existing || !k) break;
          if (k.contype === 'CONSTR_FOREIGN' && !k.skip_validation) add('foreign-key-not-valid', `Adds foreign key ${k.conname ? `"${k.conname}" ` : ''}on existing table "${display(table)}" without NOT VALID: it scans the table while blocking writes.`);
          if ((k.contype === 'CONSTR_UNIQUE' || k.contype === 'CONSTR_PRIMARY') && !k.indexname) add('index-not-concurrently', `Adds ${k.contype === 'CONSTR_UNIQUE' ? 'unique' : 'primary key'} constraint ${k.conname ? `"${k.conname}" ` : ''}on existing table "${display(table)}", building its index without CONCURRENTLY and blocking writes.`);
          break;
        }
      }
    }
  }
  return found;
}

/** The kind of each statement of `sql` as PostgreSQL's parser names it (`CreateStmt`, `InsertStmt`, …). */
export async function statementKinds(sql: string): Promise<string[]> {
  return (await statementsOf(sql)).map((statement) => Object.keys(statement.node)[0]!);
}
