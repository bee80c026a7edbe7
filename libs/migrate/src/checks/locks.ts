/**
 * The table locks a statement takes, read from its parse tree (libpg-query, as lint parses it):
 * a table keyed by statement kind — and for ALTER TABLE by subcommand — following PostgreSQL's
 * documented lock levels ("Explicit Locking", and the notes of each command's reference page).
 */
import { tableName, type Node } from './lint.ts';

/** PostgreSQL's table lock modes, weakest first. */
export const LOCK_MODES = ['ACCESS SHARE', 'ROW SHARE', 'ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'] as const;
export type LockMode = (typeof LOCK_MODES)[number];

/** What ordinary application traffic (SELECT: ACCESS SHARE; INSERT/UPDATE/DELETE: ROW EXCLUSIVE) waits for while the lock is held. */
export function blockedBy(mode: LockMode): 'reads and writes' | 'writes' | 'nothing' {
  if (mode === 'ACCESS EXCLUSIVE') return 'reads and writes';
  return LOCK_MODES.indexOf(mode) >= LOCK_MODES.indexOf('SHARE') ? 'writes' : 'nothing';
}

export function strongest(modes: LockMode[]): LockMode | undefined {
  return modes.reduce<LockMode | undefined>((a, b) => (a === undefined || LOCK_MODES.indexOf(b) > LOCK_MODES.indexOf(a) ? b : a), undefined);
}

export interface TableLock {
  /** `schema.table`; an index whose table is unknown is named `schema.index (index)`. */
  table: string;
  mode: LockMode;
}

export interface StatementLocks {
  /** The parse tree's statement kind, e.g. `AlterTableStmt`. */
  kind: string;
  locks: TableLock[];
  /** Why the locks are not known, when they are not. */
  note?: string;
}

/** What the statement analysis knows of the database: which table each index (`schema.index`) belongs to. */
export interface LockContext {
  indexes: Map<string, string>;
}

type Rule = (statement: Node, context: LockContext) => TableLock[];

const on = (relation: Node | undefined, mode: LockMode): TableLock => ({ table: tableName(relation), mode });

/** An index's table (PostgreSQL locks the table), or the index itself when its table is unknown. */
function onIndex(schema: string | undefined, name: string, mode: LockMode, context: LockContext): TableLock {
  const index = `${schema ?? 'public'}.${name}`;
  return { table: context.indexes.get(index) ?? `${index} (index)`, mode };
}

/** `a.b.c` of a name list (`List` of `String` nodes): schema and name. */
function nameOf(list: Node | undefined): { schema?: string; name: string } {
  const parts: string[] = (list?.List?.items ?? list?.items ?? []).map((item: Node) => item.String?.sval);
  return parts.length > 1 ? { schema: parts.at(-2), name: parts.at(-1)! } : { name: parts[0]! };
}

/** Foreign keys lock the table they reference in SHARE ROW EXCLUSIVE mode too. */
function referenced(constraints: Node[] | undefined): TableLock[] {
  return (constraints ?? []).map((k) => k.Constraint).filter((k) => k?.contype === 'CONSTR_FOREIGN').map((k) => on(k.pktable, 'SHARE ROW EXCLUSIVE'));
}

/** Every other relation a query names (subqueries, joins, INSERT … SELECT): read under ACCESS SHARE. */
function reads(node: unknown, target?: Node): TableLock[] {
  const found: TableLock[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object') return;
    const range = (value as Node).RangeVar;
    if (range && range !== target) found.push(on(range, 'ACCESS SHARE'));
    Object.values(value).forEach(visit);
  };
  visit(node);
  return found;
}

/** DML: ROW EXCLUSIVE on the target, ACCESS SHARE on what it reads. */
const writes: Rule = (s) => [on(s.relation, 'ROW EXCLUSIVE'), ...reads({ ...s, relation: undefined })];

/**
 * ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (the ALTER TABLE reference:
 * "An ACCESS EXCLUSIVE lock is acquired unless explicitly noted"); the statement takes the
 * strongest of its subcommands'.
 */
export const ALTER_TABLE_LOCKS: Readonly<Record<string, LockMode>> = {
  AT_SetStatistics: 'SHARE UPDATE EXCLUSIVE',
  AT_SetOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_ResetOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_SetRelOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_ResetRelOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_ValidateConstraint: 'SHARE UPDATE EXCLUSIVE',
  AT_ClusterOn: 'SHARE UPDATE EXCLUSIVE',
  AT_DropCluster: 'SHARE UPDATE EXCLUSIVE',
  AT_AttachPartition: 'SHARE UPDATE EXCLUSIVE',
  AT_DetachPartitionFinalize: 'SHARE UPDATE EXCLUSIVE',
  AT_EnableTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableAlwaysTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableReplicaTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableTrigAll: 'SHARE ROW EXCLUSIVE',
  AT_EnableTrigUser: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrig: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrigAll: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrigUser: 'SHARE ROW EXCLUSIVE',
  AT_ReplicaIdentity: 'EXCLUSIVE',
};

const alterTable: Rule = (s, context) => {
  const locks: TableLock[] = [];
  for (const { AlterTableCmd: c } of s.cmds ?? []) {
    if (!c) continue;
    const constraint = c.def?.Constraint;
    let mode: LockMode = ALTER_TABLE_LOCKS[c.subtype] ?? 'ACCESS EXCLUSIVE';
    if (c.subtype === 'AT_AddConstraint' && constraint?.contype === 'CONSTR_FOREIGN') mode = 'SHARE ROW EXCLUSIVE';
    if (c.subtype === 'AT_DetachPartition' && c.def?.PartitionCmd?.concurrent) mode = 'SHARE UPDATE EXCLUSIVE';
    locks.push(s.objtype === 'OBJECT_INDEX' ? onIndex(s.relation?.schemaname, s.relation?.relname, mode, context) : on(s.relation, mode));
    locks.push(...referenced(constraint ? [c.def] : c.def?.ColumnDef?.constraints));
  }
  return locks;
};

const RELATION_DROPS = new Set(['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE']);
const ON_TABLE_DROPS = new Set(['OBJECT_TRIGGER', 'OBJECT_RULE', 'OBJECT_POLICY']);

const drop: Rule = (s, context) =>
  (s.objects ?? []).flatMap((object: Node): TableLock[] => {
    const { schema, name } = nameOf(object);
    if (RELATION_DROPS.has(s.removeType)) return [{ table: `${schema ?? 'public'}.${name}`, mode: 'ACCESS EXCLUSIVE' }];
    if (s.removeType === 'OBJECT_INDEX') return [onIndex(schema, name, s.concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE', context)];
    if (ON_TABLE_DROPS.has(s.removeType)) {
      // `trigger ON [schema.]table`: the list is the table's name, then the trigger's.
      const parts: string[] = (object.List?.items ?? []).map((item: Node) => item.String?.sval);
      return [{ table: parts.length > 2 ? `${parts[0]}.${parts[1]}` : `public.${parts[0]}`, mode: 'ACCESS EXCLUSIVE' }];
    }
    return []; // types, schemas, sequences, functions: no table lock
  });

const none: Rule = () => [];

/** Lock levels by statement kind (the keys are libpg-query's node names). */
export const STATEMENT_LOCKS: Readonly<Record<string, Rule>> = {
  // A new table: nobody else can see it yet; foreign keys lock the referenced tables.
  CreateStmt: (s) => [on(s.relation, 'ACCESS EXCLUSIVE'), ...referenced((s.tableElts ?? []).flatMap((e: Node) => (e.Constraint ? [e] : (e.ColumnDef?.constraints ?? []))))],
  CreateTableAsStmt: (s) => [on(s.into?.rel, 'ACCESS EXCLUSIVE'), ...reads(s.query)],
  IndexStmt: (s, context) => {
    if (s.idxname) context.indexes.set(`${s.relation?.schemaname ?? 'public'}.${s.idxname}`, tableName(s.relation));
    return [on(s.relation, s.concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE')];
  },
  AlterTableStmt: alterTable,
  RenameStmt: (s, context) => {
    if (s.renameType === 'OBJECT_INDEX') return [onIndex(s.relation?.schemaname, s.relation?.relname, 'SHARE UPDATE EXCLUSIVE', context)];
    return s.relation ? [on(s.relation, 'ACCESS EXCLUSIVE')] : [];
  },
  DropStmt: drop,
  TruncateStmt: (s) => (s.relations ?? []).map((r: Node) => on(r.RangeVar, 'ACCESS EXCLUSIVE')),
  InsertStmt: writes,
  UpdateStmt: writes,
  DeleteStmt: writes,
  MergeStmt: writes,
  SelectStmt: (s) => reads(s).map((lock) => ({ ...lock, mode: s.lockingClause?.length ? 'ROW SHARE' : lock.mode })),
  CreateTrigStmt: (s) => [on(s.relation, 'SHARE ROW EXCLUSIVE')],
  CommentStmt: (s) => {
    if (s.objtype === 'OBJECT_TABLE') return [{ table: `${nameOf(s.object).schema ?? 'public'}.${nameOf(s.object).name}`, mode: 'SHARE UPDATE EXCLUSIVE' }];
    if (s.objtype !== 'OBJECT_COLUMN') return [];
    const parts: string[] = (s.object?.List?.items ?? []).map((item: Node) => item.String?.sval);
    return [{ table: parts.length > 2 ? `${parts[0]}.${parts[1]}` : `public.${parts[0]}`, mode: 'SHARE UPDATE EXCLUSIVE' }];
  },
  VacuumStmt: (s) => {
    const full = (s.options ?? []).some((o: Node) => o.DefElem?.defname === 'full');
    return (s.rels ?? []).map((r: Node) => on(r.VacuumRelation?.relation, s.is_vacuumcmd && full ? 'ACCESS EXCLUSIVE' : 'SHARE UPDATE EXCLUSIVE'));
  },
  ReindexStmt: (s, context) => {
    const mode: LockMode = (s.params ?? []).some((p: Node) => p.DefElem?.defname === 'concurrently') ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE';
    if (s.kind === 'REINDEX_OBJECT_INDEX') return [onIndex(s.relation?.schemaname, s.relation?.relname, mode, context)];
    return s.kind === 'REINDEX_OBJECT_TABLE' ? [on(s.relation, mode)] : [];
  },
  ClusterStmt: (s) => (s.relation ? [on(s.relation, 'ACCESS EXCLUSIVE')] : []),
  LockStmt: (s) => (s.relations ?? []).map((r: Node) => on(r.RangeVar, LOCK_MODES[(s.mode ?? 8) - 1] ?? 'ACCESS EXCLUSIVE')),
  RefreshMatViewStmt: (s) => [on(s.relation, s.concurrent ? 'EXCLUSIVE' : 'ACCESS EXCLUSIVE')],
  CreateStatsStmt: (s) => (s.relations ?? []).map((r: Node) => on(r.RangeVar, 'SHARE UPDATE EXCLUSIVE')),
  CreatePolicyStmt: (s) => [on(s.table, 'ACCESS EXCLUSIVE')],
  AlterPolicyStmt: (s) => [on(s.table, 'ACCESS EXCLUSIVE')],
  RuleStmt: (s) => [on(s.relation, 'ACCESS EXCLUSIVE')],
  // No table lock: types, schemas, sequences, extensions, functions, views, grants, settings.
  CreateEnumStmt: none,
  AlterEnumStmt: none,
  CompositeTypeStmt: none,
  CreateDomainStmt: none,
  CreateSchemaStmt: none,
  CreateSeqStmt: none,
  AlterSeqStmt: none,
  CreateExtensionStmt: none,
  CreateFunctionStmt: none,
  ViewStmt: none,
  GrantStmt: none,
  VariableSetStmt: none,
  TransactionStmt: none,
};

/** The locks one parsed statement (`{ KindName: {...} }`) takes. */
export function locksOf(node: Node, context: LockContext): StatementLocks {
  const kind = Object.keys(node)[0] ?? 'unknown';
  if (kind === 'DoStmt') return { kind, locks: [], note: 'runs procedural code (DO): its locks are not known before it runs' };
  const rule = STATEMENT_LOCKS[kind];
  if (!rule) return { kind, locks: [], note: `${kind} is not in the lock table` };
  // One table may be named twice (a self-referencing foreign key): it holds the stronger lock.
  const byTable = new Map<string, LockMode>();
  for (const lock of rule(node[kind], context)) byTable.set(lock.table, strongest([lock.mode, ...(byTable.has(lock.table) ? [byTable.get(lock.table)!] : [])])!);
  return { kind, locks: [...byTable].map(([table, mode]) => ({ table, mode })) };
}
