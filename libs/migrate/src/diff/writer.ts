/**
 * Renders a migration file of the stream: one class extending MikroORM's `Migration`, the
 * contract's static metadata, and `up()`/`down()` built from `addSql` calls; and recognises a
 * file of exactly that shape, which is valid by construction.
 */
export interface MigrationSource {
  name: string;
  service: string;
  dependsOn: string[];
  up: string[];
  down: string[];
  /** Blank data migration: `up()`/`down()` with a hint instead of SQL. */
  empty?: boolean;
  /**
   * Why PostgreSQL cannot undo this change, one line per reason (e.g. an enum value was added):
   * the file then declares `static irreversible = true` under these lines, and rollback refuses it.
   */
  irreversible?: string[];
  /** Tables this migration takes over from another service (an ownership transfer: no DDL). */
  takesOwnership?: Array<{ table: string; from: string }>;
  /** A squash: the migrations of its service it stands for. */
  replaces?: string[];
}

export function renderMigration(source: MigrationSource): string {
  const className = `Migration${source.name
    .split(/[_-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')}`;
  const dependsOn = source.dependsOn.length === 0 ? '[]' : `[\n${source.dependsOn.map((d) => `    '${d}',\n`).join('')}  ]`;
  const irreversible = source.irreversible?.length ? source.irreversible : undefined;
  const body = (statements: string[], hint: string) =>
    statements.length === 0 ? `    // ${hint}\n` : statements.map((sql) => `    this.addSql(${literal(sql)});\n`).join('');
  let statics = '';
  if (irreversible) statics += `${irreversible.map((reason) => `  // ${reason.replace(/\s*\n\s*/g, ' ')}\n`).join('')}  static irreversible = true;\n`;
  if (source.takesOwnership?.length) {
    statics += '  // Ownership transfer, no DDL: these tables stay as they are, data and foreign keys included.\n';
    statics += source.takesOwnership.map((t) => `  //   ${t.table} from ${t.from}\n`).join('');
    statics += `  static takesOwnership: string[] = [${source.takesOwnership.map((t) => `'${t.table}'`).join(', ')}];\n`;
    // Nothing to undo in the database: rolling back hands the tables back to their old owner.
    if (source.down.length === 0) statics += '  static emptyDown = true;\n';
  }
  if (source.replaces?.length) {
    statics += `  // Squash of ${source.service}'s migrations up to ${source.replaces.at(-1)}: a database that has none of them runs\n`;
    statics += '  // this instead; one that has them records it without running it. `migrate check` says when every\n';
    statics += '  // database is past them, so that their files can be deleted.\n';
    statics += `  static replaces: string[] = [\n${source.replaces.map((name) => `    '${name}',\n`).join('')}  ];\n`;
  }
  // As Django's RunPython without reverse_code (and unlike Alembic's `pass`), a blank data
  // migration is not silently reversible: rollback refuses its empty down() until the author
  // writes one, or says there is nothing to undo (Django's RunPython.noop) by uncommenting this.
  if (source.empty) {
    statics += '  // rollback refuses this migration while down() does nothing: undo up() there, or, when there\n';
    statics += '  // is nothing to undo (a backfill that may stay), uncomment the next line.\n  // static emptyDown = true;\n';
  }
  const downHint = source.empty ? 'undo what up() does' : irreversible ? 'PostgreSQL cannot undo up(): see static irreversible above' : 'nothing to undo';
  return `import { Migration } from '@mikro-orm/migrations';

export class ${className} extends Migration {
  static service = '${source.service}';
  static dependsOn: string[] = ${dependsOn};
  static transactional = true;
${statics}
  override async up(): Promise<void> {
${body(source.up, source.empty ? "this.addSql(`update ...`); — a data migration: add SQL, or use this.getEntityManager()" : 'nothing to do')}  }

  override async down(): Promise<void> {
${body(source.down, downHint)}  }
}
`;
}

function literal(sql: string): string {
  return '`' + sql.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
}

// The shape renderMigration writes, whatever the SQL and the comments. Every part is a piece of
// TypeScript that cannot end early: a comment cannot hold a line break (\u2028 included), a quoted
// string holds no quote or backslash, and a template literal holds only the escapes `literal` writes.
const LINE_END = String.raw`\n\r\u2028\u2029`;
const COMMENT = String.raw`  // [^${LINE_END}]*\n`;
const QUOTED = String.raw`'[^'\\${LINE_END}]*'`;
const STATIC = String.raw`  static (?:irreversible = true|emptyDown = true|takesOwnership: string\[\] = \[(?:${QUOTED}(?:, ${QUOTED})*)?\]);\n`;
const ADD_SQL = String.raw`    this\.addSql\(` + '`' + String.raw`(?:[^` + '`' + String.raw`\\$]|\\[\\` + '`' + String.raw`$]|\$(?!\{))*` + '`' + String.raw`\);\n`;
const BODY = String.raw`(?:    // [^${LINE_END}]*\n|(?:${ADD_SQL})+)`;
const RENDERED = new RegExp(
  String.raw`^import \{ Migration \} from '@mikro-orm/migrations';\n\nexport class Migration[A-Za-z0-9]+ extends Migration \{\n` +
    String.raw`  static service = '([a-z0-9][a-z0-9-]*)';\n  static dependsOn: string\[\] = (?:\[\]|\[\n(?:    '[0-9a-z_-]+',\n)+  \]);\n  static transactional = true;\n` +
    String.raw`(?:${COMMENT}|${STATIC})*\n  override async up\(\): Promise<void> \{\n${BODY}  \}\n\n  override async down\(\): Promise<void> \{\n${BODY}  \}\n\}\n$`,
);

/** True when `code` has exactly the shape renderMigration writes for `service`: a valid migration file without importing it. */
export function isRenderedMigration(code: string, service: string): boolean {
  return RENDERED.exec(code)?.[1] === service;
}

/** What a file of the rendered shape declares: exactly what importing it would give, read from its text. */
export interface RenderedMigration {
  dependsOn: string[];
  up: string[];
  down: string[];
  irreversible: boolean;
  emptyDown: boolean;
  takesOwnership: string[] | undefined;
}

const UP_START = '\n  override async up(): Promise<void> {\n';
const DOWN_START = '\n  override async down(): Promise<void> {\n';
const ADD_SQL_VALUE = new RegExp(String.raw`^    this\.addSql\(` + '`' + String.raw`((?:[^` + '`' + String.raw`\\$]|\\[\\` + '`' + String.raw`$]|\$(?!\{))*)` + '`' + String.raw`\);$`, 'gm');

/** The strings a body's `this.addSql(`…`)` calls add: the template literals' values (only `literal`'s escapes, line ends as JavaScript reads them). */
function addedSql(body: string): string[] {
  return [...body.matchAll(ADD_SQL_VALUE)].map((m) => m[1]!.replace(/\r\n?/g, '\n').replace(/\\([\\`$])/g, '$1'));
}

/**
 * Reads a file of exactly the shape renderMigration writes for `service` without importing it
 * (undefined for any other file, which must be imported): its up()/down() only add the SQL
 * read here, and its statics are the ones parsed here.
 */
export function readRenderedMigration(code: string, service: string): RenderedMigration | undefined {
  if (!isRenderedMigration(code, service)) return undefined;
  const up = code.indexOf(UP_START);
  const down = code.indexOf(DOWN_START, up);
  const header = code.slice(0, up);
  const owned = /^  static takesOwnership: string\[\] = \[(.*)\];$/m.exec(header)?.[1];
  return {
    dependsOn: [...(/^  static dependsOn: string\[\] = (\[[^\]]*\]);$/m.exec(header)?.[1] ?? '').matchAll(/'([0-9a-z_-]+)'/g)].map((m) => m[1]!),
    up: addedSql(code.slice(up + UP_START.length, down)),
    down: addedSql(code.slice(down + DOWN_START.length)),
    irreversible: /^  static irreversible = true;$/m.test(header),
    emptyDown: /^  static emptyDown = true;$/m.test(header),
    takesOwnership: owned === undefined ? undefined : [...owned.matchAll(/'([^']*)'/g)].map((m) => m[1]!),
  };
}
