/**
 * Data migrations get `this.getEntityManager()` with every service's entities wherever they run:
 * the CLI, Nx (a service's target and the stream's), the boot check's auto-migrate and the
 * gateway's AUTO_MIGRATE, on PostgreSQL and PGlite. The entity manager works inside the
 * migration's transaction. Runs that apply only SQL migrations load no model file.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { exited, listening, serveGateway, stop } from './support/gateway.ts';
import { dataMigrationSource } from './support/migrations.ts';
import { scratchWorkspace, type RunResult, type Workspace } from './support/workspace.ts';

const USER = "import { User } from '@tributary/auth-service/models';";

/** Two users of auth-service, created through the entity manager (`domain`: their e-mail domain). */
const seedUsers = (domain: string, statics: string[] = []) =>
  dataMigrationSource([`em.create(User, { email: 'ada@${domain}', displayName: 'Ada' });`, `em.create(User, { email: 'grace@${domain}', displayName: 'Grace' });`, 'await em.flush();'], {
    service: 'auth-service',
    imports: [USER],
    statics,
    down: [`await em.nativeDelete(User, { email: { $in: ['ada@${domain}', 'grace@${domain}'] } });`],
  });
const SEED_USERS = seedUsers('example.com');

/** Another service's entities, found through a relation to the first service's. */
const LINK_CUSTOMERS = dataMigrationSource(
  ["for (const user of await em.find(User, {}, { orderBy: { id: 'asc' } })) {", '  em.create(Customer, { user, legalName: `${user.displayName} Ltd` });', '}', 'await em.flush();'],
  {
    service: 'billing-service',
    imports: [USER, "import { Customer } from '@tributary/billing-service/models';"],
    statics: ["static dependsOn = ['20300101_000001_auth-service_seed_users'];"],
    down: ['await em.nativeDelete(Customer, {});'],
  },
);

/** Flushes, then fails: the flushed row must go with the migration's transaction. */
const FLUSH_THEN_FAIL = dataMigrationSource(["em.create(User, { email: 'rolled-back@example.com', displayName: 'Nobody' });", 'await em.flush();', "this.addSql('select 1/0');"], {
  service: 'auth-service',
  imports: [USER],
});

/** A model file that leaves a trace when it is imported (no entity in it). */
const LOAD_MARKER = `import { appendFileSync } from 'node:fs';
if (process.env.MODEL_LOAD_MARKER) appendFileSync(process.env.MODEL_LOAD_MARKER, 'loaded\\n');
export const loadMarker = true;
`;

const BOOT_CHECK = `import { checkMigrationsOnStartup } from '@tributary/migrate/boot';
const status = await checkMigrationsOnStartup({ autoMigrate: true, log: (line) => console.error(line) });
console.log(JSON.stringify(status.migrated));
`;

let ws: Workspace;
const databases: TestDatabase[] = [];
const marker = () => ws.path('model-load-marker.txt');

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  databases.push(db);
  return db;
}

function succeeded(result: RunResult): RunResult {
  expect(result.code, result.stdout + result.stderr).toBe(0);
  return result;
}

const CUSTOMERS = `select u."email", c."legal_name" from "customer" c join "user" u on u."id" = c."user_id" order by u."id"`;
const EXPECTED = [
  { email: 'ada@example.com', legal_name: 'Ada Ltd' },
  { email: 'grace@example.com', legal_name: 'Grace Ltd' },
];

beforeAll(() => {
  ws = scratchWorkspace();
  ws.write('apps/catalog-service/src/db/models/load-marker.ts', LOAD_MARKER);
  ws.write('scripts/boot-check.ts', BOOT_CHECK);
});
afterAll(async () => {
  for (const db of databases) await db.drop();
  ws?.dispose();
});

describe('data migrations with the entity manager', () => {
  let cliDb: TestDatabase;

  it('migrate with only SQL migrations loads no model file', async () => {
    cliDb = await freshDatabase();
    const result = succeeded(await ws.migrate(['migrate'], { DATABASE_URL: cliDb.url, MODEL_LOAD_MARKER: marker() }));
    expect(result.stdout).toContain('Applied 3 migrations');
    expect(existsSync(marker())).toBe(false);
  });

  it('find and create entities of two services from the CLI on PostgreSQL (models loaded once, on demand)', async () => {
    ws.write('migrations/20300101_000001_auth-service_seed_users.ts', SEED_USERS);
    ws.write('migrations/20300101_000002_billing-service_link_customers.ts', LINK_CUSTOMERS);
    const result = succeeded(await ws.migrate(['migrate'], { DATABASE_URL: cliDb.url, MODEL_LOAD_MARKER: marker() }));
    expect(result.stdout).toContain('Applied 2 migrations');
    expect(await cliDb.query(CUSTOMERS)).toEqual(EXPECTED);
    expect(readFileSync(marker(), 'utf8')).toBe('loaded\n');
    rmSync(marker());
  });

  it("work inside the migration's transaction: a later failure takes the flushed rows with it", async () => {
    ws.write('migrations/20300101_000003_auth-service_flush_then_fail.ts', FLUSH_THEN_FAIL);
    try {
      const result = await ws.migrate(['migrate'], { DATABASE_URL: cliDb.url });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('20300101_000003_auth-service_flush_then_fail.ts failed at statement 1 (select 1/0): division by zero');
      expect(await cliDb.query(`select "email" from "user" where "email" = 'rolled-back@example.com'`)).toEqual([]);
    } finally {
      ws.remove('migrations/20300101_000003_auth-service_flush_then_fail.ts');
    }
  });

  it('rollback runs down() with the entity manager too', async () => {
    succeeded(await ws.migrate(['rollback', '-s', '2'], { DATABASE_URL: cliDb.url }));
    expect(await cliDb.query(`select count(*)::int as n from "customer"`)).toEqual([{ n: 0 }]);
    expect(await cliDb.query(`select count(*)::int as n from "user"`)).toEqual([{ n: 0 }]);
  });

  it('in an --atomic batch, and in a non-transactional migration', async () => {
    const atomic = await freshDatabase();
    succeeded(await ws.migrate(['migrate', '--atomic'], { DATABASE_URL: atomic.url }));
    expect(await atomic.query(CUSTOMERS)).toEqual(EXPECTED);

    ws.write('migrations/20300101_000003_auth-service_outside_transaction.ts', seedUsers('outside.example.com', ['static transactional = false;']));
    try {
      succeeded(await ws.migrate(['migrate'], { DATABASE_URL: atomic.url }));
      expect(await atomic.query(`select "email" from "user" where "email" like '%@outside.example.com' order by "id"`)).toEqual([{ email: 'ada@outside.example.com' }, { email: 'grace@outside.example.com' }]);
      expect(await atomic.query(`select "status" from "tributary_migrations" where "name" = '20300101_000003_auth-service_outside_transaction'`)).toEqual([{ status: 'applied' }]);
    } finally {
      ws.remove('migrations/20300101_000003_auth-service_outside_transaction.ts');
    }
  });

  it('with decorated entity classes too (property types from their decorator metadata)', async () => {
    const decorated = await freshDatabase();
    ws.write('apps/catalog-service/src/db/models/tag.ts', `import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
@Entity({ tableName: 'tag' })
export class Tag {
  @PrimaryKey()
  id!: number;

  @Property({ length: 40 })
  label!: string;
}
`);
    ws.write('migrations/20300101_000003_catalog-service_tag.ts', `import { Migration } from '@mikro-orm/migrations';
export class CreateTag extends Migration {
  static service = 'catalog-service';
  override async up(): Promise<void> {
    this.addSql('create table "tag" ("id" serial primary key, "label" varchar(40) not null)');
  }
}
`);
    ws.write(
      'migrations/20300101_000004_catalog-service_seed_tags.ts',
      dataMigrationSource(["for (const label of ['new', 'sale']) em.create(Tag, { label });", 'await em.flush();'], { service: 'catalog-service', imports: ["import { Tag } from '../apps/catalog-service/src/db/models/tag.ts';"] }),
    );
    try {
      succeeded(await ws.migrate(['migrate'], { DATABASE_URL: decorated.url }));
      expect(await decorated.query(`select "label" from "tag" order by "id"`)).toEqual([{ label: 'new' }, { label: 'sale' }]);
      expect(await decorated.query(CUSTOMERS)).toEqual(EXPECTED);
    } finally {
      for (const file of ['apps/catalog-service/src/db/models/tag.ts', 'migrations/20300101_000003_catalog-service_tag.ts', 'migrations/20300101_000004_catalog-service_seed_tags.ts']) ws.remove(file);
    }
  });

  it("from a service's Nx target (with the migration it depends on) and from the stream's", async () => {
    const viaService = await freshDatabase();
    succeeded(await ws.nx(['run', 'billing-service:migrate'], { DATABASE_URL: viaService.url }));
    expect(await viaService.query(CUSTOMERS)).toEqual(EXPECTED);

    const viaStream = await freshDatabase();
    succeeded(await ws.nx(['run', 'migrations:migrate'], { DATABASE_URL: viaStream.url }));
    expect(await viaStream.query(CUSTOMERS)).toEqual(EXPECTED);
  });

  it('from the boot check with autoMigrate, on the connection it opens itself', async () => {
    const viaBoot = await freshDatabase();
    const result = succeeded(await ws.run(process.execPath, [ws.path('scripts/boot-check.ts')], { DATABASE_URL: viaBoot.url }));
    expect(JSON.parse(result.stdout)).toHaveLength(5);
    expect(await viaBoot.query(CUSTOMERS)).toEqual(EXPECTED);
  });

  it("from the gateway's AUTO_MIGRATE", async () => {
    const viaGateway = await freshDatabase();
    const gateway = serveGateway(ws, { DATABASE_URL: viaGateway.url, AUTO_MIGRATE: 'true' });
    try {
      await listening(gateway);
    } finally {
      await stop(gateway).catch(() => exited(gateway));
    }
    expect(await viaGateway.query(CUSTOMERS)).toEqual(EXPECTED);
  });

  it('from the CLI on the embedded PGlite database', async () => {
    succeeded(await ws.migrate(['migrate']));
    const pglite = await PGlite.create({ dataDir: ws.path('.data/pglite') });
    try {
      expect((await pglite.query(CUSTOMERS)).rows).toEqual(EXPECTED);
    } finally {
      await pglite.close();
    }
  });
});

/**
 * PGlite has one session, which a transactional migration's transaction holds while its up()
 * runs: a query sent past that transaction (`em.getConnection().execute()` without it) waited for
 * it forever, and the process ended with exit 13 and no word (found by a new user).
 */
describe('a data migration on the embedded PGlite database that queries past its transaction', () => {
  let embedded: Workspace;
  const emails = async () => {
    const pglite = await PGlite.create({ dataDir: embedded.path('.data/pglite') });
    try {
      return (await pglite.query<{ email: string }>(`select "email" from "user" where "email" like '%@past.example' order by "email"`)).rows.map((r) => r.email);
    } finally {
      await pglite.close();
    }
  };
  beforeAll(() => {
    embedded = scratchWorkspace();
  });
  afterAll(() => embedded?.dispose());

  const write = (name: string, lines: string[]) => embedded.write(`migrations/${name}.ts`, dataMigrationSource(lines, { service: 'auth-service', imports: [] }));
  /** `kept` in one migration, then `doomed` in the next, which fails after it: the first applied, the second rolled back whole. */
  async function keptThenDoomed(first: string, kept: string[], doomed: string[]): Promise<void> {
    const second = `${first}_fail`;
    write(first, kept);
    write(second, [...doomed, "this.addSql('select 1/0');"]);
    const result = await embedded.migrate(['migrate']);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stderr).toContain(`${second}.ts failed at statement 1 (select 1/0): division by zero`);
    embedded.remove(`migrations/${second}.ts`);
  }
  const insert = (who: string) => `await em.getConnection().execute(\`insert into "user" ("email", "display_name") values ('${who}@past.example', '${who}')\`);`;
  const forkInsert = (who: string) => `await em.fork().transactional(async (tx) => { await tx.execute(\`insert into "user" ("email", "display_name") values ('${who}@past.example', 'F')\`); });`;

  it("runs such a query inside the migration's transaction: applied with it, rolled back with it", async () => {
    await keptThenDoomed('20300101_000001_auth-service_past_insert', [insert('kept'), "const [{ n }] = await em.getConnection().execute(`select count(*)::int as n from \"user\" where \"email\" = 'kept@past.example'`);", "if (n !== 1) throw new Error('not seen');"], [insert('doomed')]);
    expect(await emails()).toEqual(['kept@past.example']);
  });

  it("keeps a transaction of its own (em.fork().transactional) and Kysely's client in the migration's transaction too", async () => {
    const kysely = "await (em.getConnection().getClient() as any).insertInto('user').values({ email: 'kysely@past.example', display_name: 'K' }).execute();";
    await keptThenDoomed('20300101_000003_auth-service_past_fork', [forkInsert('forked'), kysely], [forkInsert('forked-doomed')]);
    expect(await emails()).toEqual(['forked@past.example', 'kept@past.example', 'kysely@past.example']);
  });

  it('in a dry run too: its own transaction and Kysely queries stay in the read-only transaction that is rolled back', async () => {
    write('20300101_000005_auth-service_past_dry', [
      "const seen = await (em.getConnection().getClient() as any).selectFrom('user').select('email').where('email', '=', 'kept@past.example').execute();",
      "await em.fork().transactional(async (tx) => { await tx.execute(`insert into \"user\" (\"email\", \"display_name\") values ('dry@past.example', ${seen.length})`); });",
    ]);
    const dry = await embedded.migrate(['migrate', '--dry-run']);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`-- would write: insert into "user" ("email", "display_name") values ('dry@past.example', 1)`);
    expect(await emails()).toEqual(['forked@past.example', 'kept@past.example', 'kysely@past.example']);
    embedded.remove('migrations/20300101_000005_auth-service_past_dry.ts');
  });
});
