/**
 * Migrations that query the database themselves (`this.execute`, also from a base class's
 * helper) run inside their migration's transaction: their work commits with it or not at all,
 * while migrations that only collect SQL take the one-round-trip path.
 */
import { describe, expect, it } from 'vitest';
import { workspaceWithDatabase } from './support/fixture.ts';

const { ws, db, env } = workspaceWithDatabase({ withStream: false });

const tableExists = async (name: string) => (await db.query(`select to_regclass($1) is not null as e`, [name]))[0].e as boolean;
const applied = async () => (await db.query(`select name from tributary_migrations where status = 'applied' order by name`)).map((r) => r.name as string);

// The direct query hides in a helper of a shared base class: nothing in the migration's own source says so.
const BASE = `import { Migration } from '@mikro-orm/migrations';
export abstract class SeedingMigration extends Migration {
  protected async seed(table: string): Promise<void> {
    await this.execute(\`create table "\${table}" ("id" int)\`);
    await this.execute(\`insert into "\${table}" values (1)\`);
  }
}
`;
const usingBase = (table: string, then: string) => `import { SeedingMigration } from './support/seeding.ts';
export class UsesBase extends SeedingMigration {
  static service = 'auth-service';
  override async up(): Promise<void> {
    await this.seed('${table}');
    this.addSql(${JSON.stringify(then)});
  }
}
`;

describe('migrations that run queries themselves', () => {
  it('roll back with their migration when a later statement fails', async () => {
    ws.write('migrations/support/seeding.ts', BASE);
    ws.write('migrations/20300101_000001_auth-service_seed_broken.ts', usingBase('seeded_broken', 'select 1/0'));
    const result = await ws.migrate(['migrate'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('20300101_000001_auth-service_seed_broken.ts failed at statement 1 (select 1/0): division by zero');
    expect(await tableExists('seeded_broken')).toBe(false);
    expect(await applied()).toEqual([]);
  });

  it('commit with their migration, next to migrations that only collect SQL', async () => {
    ws.write('migrations/20300101_000001_auth-service_seed_broken.ts', usingBase('seeded', 'insert into "seeded" values (2)'));
    ws.write('migrations/20300101_000002_auth-service_plain.ts', `import { Migration } from '@mikro-orm/migrations';
export class Plain extends Migration {
  static service = 'auth-service';
  override async up(): Promise<void> {
    this.addSql('create table "plain" ("id" int)');
    this.addSql('insert into "plain" values (1), (2)');
  }
}
`);
    const result = await ws.migrate(['migrate'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(await db.query('select id from "seeded" order by id')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await db.query('select count(*)::int as n from "plain"')).toEqual([{ n: 2 }]);
    expect(await applied()).toEqual(['20300101_000001_auth-service_seed_broken', '20300101_000002_auth-service_plain']);
  });
});
