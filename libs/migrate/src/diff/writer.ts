/**
 * Renders a migration file of the stream: one class extending MikroORM's `Migration`, the
 * contract's static metadata, and `up()`/`down()` built from `addSql` calls.
 */
export interface MigrationSource {
  name: string;
  service: string;
  dependsOn: string[];
  up: string[];
  down: string[];
  /** Blank data migration: `up()`/`down()` with a hint instead of SQL. */
  empty?: boolean;
}

export function renderMigration(source: MigrationSource): string {
  const className = `Migration${source.name
    .split(/[_-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')}`;
  const dependsOn = source.dependsOn.length === 0 ? '[]' : `[\n${source.dependsOn.map((d) => `    '${d}',\n`).join('')}  ]`;
  const body = (statements: string[], hint: string) =>
    statements.length === 0 ? `    // ${hint}\n` : statements.map((sql) => `    this.addSql(${literal(sql)});\n`).join('');
  return `import { Migration } from '@mikro-orm/migrations';

export class ${className} extends Migration {
  static service = '${source.service}';
  static dependsOn: string[] = ${dependsOn};
  static transactional = true;

  override async up(): Promise<void> {
${body(source.up, source.empty ? "this.addSql(`update ...`); — a data migration: add SQL, or use this.getEntityManager()" : 'nothing to do')}  }

  override async down(): Promise<void> {
${body(source.down, source.empty ? 'undo what up() does' : 'nothing to undo')}  }
}
`;
}

function literal(sql: string): string {
  return '`' + sql.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
}
