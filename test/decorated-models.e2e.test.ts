/**
 * Decorated entity classes are models like `defineEntity` ones: auth-service rewritten with
 * legacy decorators (types from reflect-metadata, or declared) is the same schema as the
 * committed stream, makes the same migrations, applies and checks clean; TC39 decorators load
 * too; and a model file that fails to load is named with line and column, not a file importing it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/database.ts';
import { workspaceFixture, workspaceWithDatabase } from './support/fixture.ts';
import { REPO, scratchWorkspace, type RunResult, type Workspace } from './support/workspace.ts';

const MODELS = 'apps/auth-service/src/db/models';

/** auth-service's User/Session/ApiKey as a decorated code base writes them. */
const LEGACY_AUTH: Record<string, string> = {
  'user.ts': `import { Entity, Enum, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

export const UserRoles = ['member', 'admin', 'support'] as const;

/** An account that can sign in; other services reference it by id. */
@Entity({ tableName: 'user' })
export class User {
  @PrimaryKey()
  id!: number;

  @Property({ length: 320, unique: true })
  email!: string;

  @Property({ length: 120 })
  displayName!: string;

  @Enum({ items: [...UserRoles], default: 'member' })
  role!: (typeof UserRoles)[number];

  @Property({ type: 'json', default: '{}' })
  settings!: Record<string, unknown>;

  @Property({ defaultRaw: 'now()', onCreate: () => new Date() })
  createdAt!: Date;

  @Property({ defaultRaw: 'now()', onCreate: () => new Date(), onUpdate: () => new Date() })
  updatedAt!: Date;
}
`,
  'session.ts': `import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { User } from './user.ts';

/** A signed-in browser or device; expires and can be revoked. */
@Entity({ tableName: 'session' })
export class Session {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: User;

  @Property({ columnType: 'text', nullable: true })
  userAgent?: string | null;

  @Property({ index: true })
  expiresAt!: Date;

  @Property({ nullable: true })
  revokedAt?: Date;

  @Property({ defaultRaw: 'now()', onCreate: () => new Date() })
  createdAt!: Date;
}
`,
  // Extensionless relative imports, as most decorated code bases write them.
  'api-key.ts': `import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { User } from './user';

/** A machine credential; only the prefix and a hash of the secret are stored. */
@Entity({ tableName: 'api_key' })
export class ApiKey {
  @PrimaryKey()
  id!: number;

  @ManyToOne({ entity: () => User, deleteRule: 'cascade' })
  user!: User;

  @Property({ length: 12, index: true })
  prefix!: string;

  @Property({ length: 128 })
  secretHash!: string;

  @Property({ type: 'array', default: [] })
  scopes!: string[];

  @Property({ nullable: true })
  lastUsedAt?: Date;

  @Property({ defaultRaw: 'now()', onCreate: () => new Date() })
  createdAt!: Date;
}
`,
};

function decorate(ws: Workspace): void {
  for (const [file, source] of Object.entries(LEGACY_AUTH)) ws.write(`${MODELS}/${file}`, source);
}

/** The SQL of a migration file: its up() and down() bodies, without the name or the class name. */
function bodyOf(source: string): string {
  return source.slice(source.indexOf('override async up()'));
}

/** `line:column` (1-based) of the character `offset` characters into the first `marker` of `source`. */
function positionOf(source: string, marker: string, offset = 0): string {
  const before = source.slice(0, source.indexOf(marker) + offset).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

function expectOk(result: RunResult): void {
  expect(result.code, result.stdout + result.stderr).toBe(0);
}

describe('decorated entities: legacy decorators with reflect-metadata', () => {
  const { ws, db, env } = workspaceWithDatabase();
  beforeAll(() => decorate(ws));

  it('are the schema the committed stream made from the defineEntity models', async () => {
    const check = await ws.migrate(['makemigrations', '--check']);
    expectOk(check);
    expect(check.stdout + check.stderr).not.toContain('auth-service');
  });

  it('migrate applies, and check against the database is clean', async () => {
    expectOk(await ws.migrate(['migrate'], env));
    expectOk(await ws.migrate(['check'], env));
    const columns = await db.query(`select column_name, data_type from information_schema.columns where table_name = 'session' order by ordinal_position`);
    expect(columns.map((c) => `${c.column_name} ${c.data_type}`)).toEqual([
      'id uuid', 'user_id integer', 'user_agent text', 'expires_at timestamp with time zone', 'revoked_at timestamp with time zone', 'created_at timestamp with time zone',
    ]);
  });

  it('a change writes the migration the same change to the defineEntity model writes', async () => {
    const plain = scratchWorkspace({ apps: ['auth-service'] });
    try {
      plain.edit(`${MODELS}/user.ts`, 'displayName: p.string().length(120),', 'displayName: p.string().length(120),\n    nickname: p.string().length(40).nullable(),\n    loginCount: p.integer().default(0),');
      expectOk(await plain.migrate(['makemigrations', '-m', 'nickname']));
      ws.edit(`${MODELS}/user.ts`, '  displayName!: string;\n', '  displayName!: string;\n\n  @Property({ length: 40, nullable: true })\n  nickname?: string;\n\n  @Property({ default: 0 })\n  loginCount!: number;\n');
      expectOk(await ws.migrate(['makemigrations', '-m', 'nickname']));
      const [expected] = plain.migrations().filter((f) => f.includes('nickname'));
      const [written] = ws.migrations().filter((f) => f.includes('nickname'));
      expect(bodyOf(ws.read(`migrations/${written}`))).toEqual(bodyOf(plain.read(`migrations/${expected}`)));
      expect(ws.read(`migrations/${written}`)).toContain('add "nickname" varchar(40) null, add "login_count" int not null default 0');
    } finally {
      plain.dispose();
    }
    expectOk(await ws.migrate(['migrate'], env));
    expectOk(await ws.migrate(['makemigrations', '--check']));
    expectOk(await ws.migrate(['check'], env));
  });

  it('from an empty stream, the initial migration is the committed defineEntity one', async () => {
    const fresh = scratchWorkspace({ withStream: false, apps: ['auth-service'] });
    const empty = await createTestDatabase();
    try {
      decorate(fresh);
      expectOk(await fresh.migrate(['makemigrations', '-m', 'initial']));
      const [written] = fresh.migrations();
      const committed = readFileSync(join(REPO, 'migrations/20261123_130022_auth-service_initial.ts'), 'utf8');
      expect(bodyOf(fresh.read(`migrations/${written}`))).toEqual(bodyOf(committed));
      expectOk(await fresh.migrate(['migrate'], { DATABASE_URL: empty.url }));
      expectOk(await fresh.migrate(['makemigrations', '--check']));
    } finally {
      await empty.drop();
      fresh.dispose();
    }
  });

  it('a migration may import a decorated model file', async () => {
    ws.write('migrations/20300101_000000_auth-service_roles.ts', `import { Migration } from '@mikro-orm/migrations';
import { UserRoles } from '../${MODELS}/user.ts';

export class RolesMigration extends Migration {
  static service = 'auth-service';

  override async up(): Promise<void> {
    this.addSql(\`create table "role_name" ("name" text primary key)\`);
    this.addSql(\`insert into "role_name" values \${UserRoles.map((role) => \`('\${role}')\`).join(', ')}\`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table "role_name"');
  }
}
`);
    expectOk(await ws.migrate(['migrate'], env));
    expect(await db.query(`select name from "role_name" order by name`)).toEqual([{ name: 'admin' }, { name: 'member' }, { name: 'support' }]);
  });

  it('a decorated file with a syntax error is named with line and column', async () => {
    const file = `${MODELS}/session.ts`;
    const good = ws.read(file);
    const broken = good.replace('  @Property({ index: true })', '  @Property({ index: true )');
    ws.write(file, broken);
    try {
      const result = await ws.migrate(['makemigrations', '-m', 'x']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`error: Service auth-service: model file ${file}:${positionOf(broken, 'true )', 5)} failed to load: SyntaxError: Expected ',', got ')'\n`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      ws.write(file, good);
    }
  });

  it('a decorated class whose decorator throws is named', async () => {
    const file = `${MODELS}/session.ts`;
    const good = ws.read(file);
    // Relation decorators refuse an options object mixed with other parameters.
    ws.write(file, good.replace("@ManyToOne(() => User, { deleteRule: 'cascade' })", "@ManyToOne({ entity: () => User }, 'sessions' as any)"));
    try {
      const result = await ws.migrate(['makemigrations', '-m', 'x']);
      expect(result.code).toBe(1);
      // the decorator is applied by SWC's helper, whose lines map to no decorator: the file alone
      expect(result.stderr).toContain(`error: Service auth-service: model file ${file} failed to load: Mixing first decorator parameter`);
    } finally {
      ws.write(file, good);
    }
  });

  it('a decorated file that throws while loading is named at the line that threw', async () => {
    const file = `${MODELS}/session.ts`;
    const good = ws.read(file);
    const broken = `${good}\nconst limit: number = 3;\nif (limit > 2) throw new Error('too many sessions');\n`;
    ws.write(file, broken);
    try {
      const result = await ws.migrate(['makemigrations', '-m', 'x']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`error: Service auth-service: model file ${file}:${positionOf(broken, 'new Error')} failed to load: too many sessions\n`);
    } finally {
      ws.write(file, good);
    }
  });
});

describe('decorated entities: TC39 (ES) decorators', () => {
  const { ws, env } = workspaceWithDatabase();

  it('an ES-decorated entity with declared types becomes a table of its service', async () => {
    ws.write('apps/catalog-service/src/db/models/tag.ts', `import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/es';
import { Category } from './category.ts';

@Entity({ tableName: 'tag' })
export class Tag {
  @PrimaryKey({ type: 'integer' })
  id!: number;

  @Property({ type: 'string', length: 40, unique: true })
  label!: string;

  @ManyToOne(() => Category, { nullable: true })
  category?: unknown;

  @Property({ type: 'boolean', default: false })
  hidden = false;
}
`);
    expectOk(await ws.migrate(['makemigrations', '-m', 'tags']));
    const [written] = ws.migrations().filter((f) => f.includes('catalog-service_tags'));
    expect(written).toBeDefined();
    const source = ws.read(`migrations/${written}`);
    expect(source).toContain('create table "tag" ("id" serial primary key, "label" varchar(40) not null, "category_id" int null, "hidden" boolean not null default false);');
    expect(source).toContain('foreign key ("category_id") references "category" ("id")');
    expectOk(await ws.migrate(['migrate'], env));
    expectOk(await ws.migrate(['makemigrations', '--check']));
  });
});

describe('a model file with a syntax error', () => {
  const ws = workspaceFixture({ apps: ['auth-service'] });

  it('is named with line and column, not the file that imports it', async () => {
    // api-key.ts and session.ts import user.ts and load first; index.ts re-exports it.
    const file = `${MODELS}/user.ts`;
    const good = ws.read(file);
    ws.edit(file, 'email: p.string().length(320).unique(),', 'email: p.string().length(320).unique(,');
    try {
      const result = await ws.migrate(['makemigrations', '-m', 'x']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`error: Service auth-service: model file ${file}:${positionOf(ws.read(file), 'unique(,', 7)} failed to load: SyntaxError: Expression expected\n`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      ws.write(file, good);
    }
  });

  it('is named with line and column when only V8 finds it (a name declared twice)', async () => {
    const file = `${MODELS}/session.ts`;
    ws.write(file, `${ws.read(file)}\nconst expiry = 1;\nconst expiry = 2;\n`);
    const result = await ws.migrate(['makemigrations', '-m', 'x']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: Service auth-service: model file ${file}:${positionOf(ws.read(file), 'expiry = 2', 0)} failed to load: SyntaxError: Identifier 'expiry' has already been declared\n`);
  });
});
