/**
 * A dry run never changes anything: data migrations that write through the entity manager,
 * `this.execute` or `em.flush()` are shown as "would write" and leave the data untouched, reads
 * still work, and the real run then applies each write once — on PostgreSQL and on PGlite.
 * Reading a migration's SQL (dry run, lint, the shard rebuild) runs no user query and prints
 * none of its console output.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from './support/database.ts';
import { scratchWorkspace, type RunResult, type Workspace } from './support/workspace.ts';

const LOUD = 'DATA MIGRATION SAYS HELLO';

/** Writes through the entity manager's raw query. */
const WITH_EM = `import { Migration } from '@mikro-orm/migrations';
export class SeedWithEm extends Migration {
  static service = 'auth-service';
  override async up(): Promise<void> {
    console.log('${LOUD} (em)');
    await this.getEntityManager().execute(\`insert into "user" ("email", "display_name") values ('em@example.com', 'Em')\`);
  }
  override async down(): Promise<void> {
    await this.getEntityManager().execute(\`delete from "user" where "email" = 'em@example.com'\`);
  }
}
`;

/** Writes through the migration's own query method. */
const DIRECTLY = `import { Migration } from '@mikro-orm/migrations';
export class SeedDirectly extends Migration {
  static service = 'auth-service';
  override async up(): Promise<void> {
    console.info('${LOUD} (execute)');
    await this.execute(\`insert into "user" ("email", "display_name") values ('direct@example.com', 'Direct')\`);
  }
  override async down(): Promise<void> {
    await this.execute(\`delete from "user" where "email" = 'direct@example.com'\`);
  }
}
`;

/** Reads, then collects SQL that depends on what it read. */
const FROM_READ = `import { Migration } from '@mikro-orm/migrations';
export class SeedFromRead extends Migration {
  static service = 'auth-service';
  override async up(): Promise<void> {
    const [{ n }] = await this.execute('select count(*)::int as n from "user"');
    this.addSql(\`insert into "user" ("email", "display_name") values ('after-\${n}@example.com', 'After')\`);
  }
  override async down(): Promise<void> {
    this.addSql(\`delete from "user" where "email" like 'after-%'\`);
  }
}
`;

/** Creates an entity and flushes it (the ORM must know the entities). */
const WITH_FLUSH = `import { Migration } from '@mikro-orm/migrations';
import { User } from '@tributary/auth-service/models';
export class SeedWithFlush extends Migration {
  static service = 'auth-service';
  override async up(): Promise<void> {
    console.warn('${LOUD} (flush)');
    const em = this.getEntityManager();
    em.create(User, { email: 'flush@example.com', displayName: 'Flush' });
    await em.flush();
  }
  override async down(): Promise<void> {
    await this.getEntityManager().nativeDelete(User, { email: 'flush@example.com' });
  }
}
`;

const SEEDS = {
  '20300101_000001_auth-service_seed_with_em.ts': WITH_EM,
  '20300101_000002_auth-service_seed_directly.ts': DIRECTLY,
  '20300101_000003_auth-service_seed_from_read.ts': FROM_READ,
  '20300101_000004_auth-service_seed_with_flush.ts': WITH_FLUSH,
};

interface Backend {
  name: string;
  env: () => Record<string, string>;
  query: (sql: string) => Promise<any[]>;
  setUp: () => Promise<void>;
  tearDown: () => Promise<void>;
}

let ws: Workspace;
let db: TestDatabase;

function postgres(): Backend {
  return {
    name: 'PostgreSQL',
    env: () => ({ DATABASE_URL: db.url }),
    query: (sql) => db.query(sql),
    setUp: async () => {
      db = await createTestDatabase();
    },
    tearDown: async () => db?.drop(),
  };
}

function embedded(): Backend {
  return {
    name: 'PGlite',
    env: () => ({}),
    // The CLI has exited: the embedded database is free to open here.
    query: async (sql) => {
      const pglite = await PGlite.create({ dataDir: ws.path('.data/pglite') });
      try {
        return (await pglite.query(sql)).rows as any[];
      } finally {
        await pglite.close();
      }
    },
    setUp: async () => {},
    tearDown: async () => {},
  };
}

const output = (result: RunResult) => result.stdout + result.stderr;

describe.each([postgres(), embedded()])('dry run on $name', (backend) => {
  const emails = async () => (await backend.query(`select "email" from "user" order by "id"`)).map((r) => r.email as string);
  const applied = async () => (await backend.query(`select "name" from "tributary_migrations" where "status" = 'applied' order by "name"`)).map((r) => r.name as string);
  const cli = (...args: string[]) => ws.migrate(args, backend.env());

  beforeAll(async () => {
    ws = scratchWorkspace();
    await backend.setUp();
    const initial = await cli('migrate');
    expect(initial.code, output(initial)).toBe(0);
    for (const [name, source] of Object.entries(SEEDS)) ws.write(`migrations/${name}`, source);
  });
  afterAll(async () => {
    await backend.tearDown();
    ws?.dispose();
  });

  it('migrate --dry-run says what would be written, writes nothing and prints no migration output', async () => {
    const before = await applied();
    const result = await cli('migrate', '--dry-run');
    expect(result.code, output(result)).toBe(0);
    expect(result.stdout).toContain(`-- would write: insert into "user" ("email", "display_name") values ('em@example.com', 'Em')`);
    expect(result.stdout).toContain(`-- would write: insert into "user" ("email", "display_name") values ('direct@example.com', 'Direct')`);
    expect(result.stdout).toMatch(/-- would write: insert into "user" .*'flush@example\.com'/);
    // Reads work (the writes before it were not made): the SQL it collects says so.
    expect(result.stdout).toContain(`-- read: select count(*)::int as n from "user"`);
    expect(result.stdout).toContain(`insert into "user" ("email", "display_name") values ('after-0@example.com', 'After');`);
    expect(result.stdout).toContain('Dry run: 4 migrations would be applied; nothing was changed.');
    expect(output(result)).not.toContain(LOUD);
    expect(await emails()).toEqual([]);
    expect(await applied()).toEqual(before);
  });

  it('the real migrate then applies every write once', async () => {
    const result = await cli('migrate');
    expect(result.code, output(result)).toBe(0);
    expect(result.stdout).toContain('Applied 4 migrations');
    expect(await emails()).toEqual(['em@example.com', 'direct@example.com', 'after-2@example.com', 'flush@example.com']);
  });

  it('rollback --dry-run says what down() would delete and deletes nothing', async () => {
    const result = await cli('rollback', '-s', '4', '--dry-run');
    expect(result.code, output(result)).toBe(0);
    expect(result.stdout).toContain(`-- would write: delete from "user" where "email" = 'em@example.com'`);
    expect(result.stdout).toContain(`-- would write: delete from "user" where "email" = 'direct@example.com'`);
    expect(result.stdout).toMatch(/-- would write: delete from "user" .*'flush@example\.com'/);
    expect(result.stdout).toContain(`delete from "user" where "email" like 'after-%';`);
    expect(await emails()).toEqual(['em@example.com', 'direct@example.com', 'after-2@example.com', 'flush@example.com']);
    expect((await applied()).filter((name) => name.startsWith('20300101'))).toHaveLength(4);
  });
});

/** Lint reads SQL with a MikroORM that never connected; a user query must not find a database behind it. */
const LINT_DATABASE = 'tributary_lint';

describe('reading SQL without running user queries', () => {
  let admin: pg.Client;
  let lintDb: pg.Client;

  beforeAll(async () => {
    ws = scratchWorkspace();
    admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`drop database if exists "${LINT_DATABASE}" with (force)`);
    await admin.query(`create database "${LINT_DATABASE}"`);
    lintDb = new pg.Client({ connectionString: ADMIN_URL.replace(/\/[^/]*$/, `/${LINT_DATABASE}`) });
    await lintDb.connect();
    await lintDb.query(`create table "user" ("id" serial primary key, "email" text, "display_name" text)`);
  });
  afterAll(async () => {
    await lintDb?.end();
    await admin?.query(`drop database if exists "${LINT_DATABASE}" with (force)`);
    await admin?.end();
    ws?.dispose();
  });

  it('lint runs no query of a data migration and prints none of its output', async () => {
    ws.write('migrations/20300101_000001_auth-service_seed_with_em.ts', WITH_EM);
    ws.write('migrations/20300101_000002_auth-service_seed_directly.ts', DIRECTLY);
    const result = await ws.migrate(['lint']);
    expect(output(result)).not.toContain(LOUD);
    expect(result.stdout).toContain('Linted 5 migrations');
    expect((await lintDb.query(`select count(*)::int as n from "user"`)).rows).toEqual([{ n: 0 }]);
  });

  it('the shard rebuild replays only the SQL collected by addSql, silently', async () => {
    // A backfill from a table that exists only in production: replayed for real, it cannot run.
    ws.write('migrations/20300101_000003_auth-service_backfill.ts', `import { Migration } from '@mikro-orm/migrations';
export class Backfill extends Migration {
  static service = 'auth-service';
  override async up(): Promise<void> {
    console.log('${LOUD} (backfill)');
    await this.execute('update "user" set "display_name" = (select "name" from "legacy_people" limit 1)');
    await this.getEntityManager().execute('delete from "legacy_people"');
    this.addSql('alter table "user" add column "nickname" varchar(40) null');
  }
}
`);
    ws.edit('apps/auth-service/src/db/models/user.ts', 'displayName: p.string().length(120),', 'displayName: p.string().length(120),\n    nickname: p.string().length(40).nullable(),');
    ws.remove('migrations/.snapshots/auth-service');
    const result = await ws.migrate(['makemigrations', '--check']);
    expect(result.code, output(result)).toBe(0);
    expect(result.stdout).toContain('No model changes without a migration.');
    expect(output(result)).not.toContain(LOUD);
  });
});
