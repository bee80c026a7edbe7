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
