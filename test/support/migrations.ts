/** Migration files written by tests: a class of the given service whose up() runs the given SQL. */
export interface MigrationSourceOptions {
  service?: string;
  transactional?: boolean;
  /** Extra class body lines, e.g. `static lockTimeout = '1s';`. */
  statics?: string[];
  /** SQL for down(); none means the class has no down(). */
  down?: string[];
}

export function migrationSource(statements: string[], options: MigrationSourceOptions = {}): string {
  const lines = (sqls: string[]) => sqls.map((sql) => `    this.addSql(${JSON.stringify(sql)});`).join('\n');
  const statics = [`static service = '${options.service ?? 'auth-service'}';`, `static transactional = ${options.transactional ?? true};`, ...(options.statics ?? [])];
  const down = options.down ? `\n  override async down(): Promise<void> {\n${lines(options.down)}\n  }\n` : '';
  return `import { Migration } from '@mikro-orm/migrations';

export class TestMigration extends Migration {
${statics.map((s) => `  ${s}`).join('\n')}

  override async up(): Promise<void> {
${lines(statements)}
  }
${down}}
`;
}

export interface DataMigrationOptions {
  service: string;
  /** Import lines the code needs (entities of the services). */
  imports: string[];
  statics?: string[];
  /** down()'s code; none means the class has no down(). */
  down?: string[];
}

/** A data migration: its up() (and down()) run the given lines of code with `em`, the migration's entity manager. */
export function dataMigrationSource(up: string[], options: DataMigrationOptions): string {
  const method = (name: string, code: string[]) => `  override async ${name}(): Promise<void> {\n    const em = this.getEntityManager();\n${code.map((line) => `    ${line}`).join('\n')}\n  }\n`;
  const statics = [`static service = '${options.service}';`, ...(options.statics ?? [])];
  return `import { Migration } from '@mikro-orm/migrations';
${options.imports.join('\n')}

export class DataMigration extends Migration {
${statics.map((s) => `  ${s}`).join('\n')}

${method('up', up)}${options.down ? method('down', options.down) : ''}}
`;
}
