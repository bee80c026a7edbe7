/**
 * Conformance: on an entity set shaped like real MikroORM applications (test/conformance/services,
 * three `defineEntity` services with cross-service foreign keys, a `ledger` schema, native enums,
 * single-table inheritance, embeddables, pivot tables), Tributary's migrations must build exactly
 * the schema MikroORM's own SchemaGenerator creates from the same models — initially and after
 * each of a series of model changes — with `makemigrations --check` clean (also from rebuilt
 * shards) and every reversible change surviving a rollback + migrate round trip.
 */
import { describe, expect, it } from 'vitest';
import { changeTests, conformanceSuite, initialSchemaTests, latestOf, type ChangeStep } from './harness.ts';

const suite = conformanceSuite();
const { c, ws } = suite;

// Each step runs several CLI processes, a shard rebuild replays the stream in PGlite: room for a busy machine.
const SLOW = { timeout: 300_000 };

const MEMBER = 'apps/identity-service/src/db/models/member.ts';
const STAFF = 'apps/identity-service/src/db/models/staff.ts';
const ARTICLE = 'apps/publishing-service/src/db/models/article.ts';
const COMMENT = 'apps/publishing-service/src/db/models/comment.ts';
const PUBLISHING_INDEX = 'apps/publishing-service/src/db/models/index.ts';
const LEDGER = 'apps/ledger-service/src/db/models/ledger.ts';
const LEDGER_ENTRY = 'apps/ledger-service/src/db/models/entry.ts';

describe('conformance with MikroORM SchemaGenerator: initial schema (every schema, enum, sequence, STI column and pivot table)', SLOW, () => {
  initialSchemaTests(suite, ['identity-service', 'ledger-service', 'publishing-service'], [
    'schema ledger',
    'relation public.entry kind=r',
    'relation ledger.entry kind=r',
    'relation ledger.entry_labels kind=r',
    'enum public.article_status {draft,published,archived}',
    'enum ledger.entry_direction {debit,credit}',
    'column public.staff_member.desk_code character varying(20) null',
    'column public.staff_member.escalation_email character varying(320) null',
    'column public.member.links_github character varying(80) null',
  ]);
});

/** The changes before the ownership transfer. */
const FIRST_CHANGES: ChangeStep[] = [
  {
    title: 'identity-service adds a column and drops another',
    message: 'locale instead of avatar',
    services: ['identity-service'],
    destructive: true,
    edits: [[MEMBER, '    avatarUrl: p.string().length(500).nullable(),\n', "    locale: p.string().length(10).default('en'),\n"]],
    then: ({ created, source }) => expect(source(created[0]!)).toContain('drop column "avatar_url"'),
  },
  {
    title: 'publishing-service adds a value to the native enum article_status (irreversible: rollback refuses)',
    message: 'scheduled articles',
    services: ['publishing-service'],
    reversible: false,
    edits: [[ARTICLE, "['draft', 'published', 'archived']", "['draft', 'scheduled', 'published', 'archived']"]],
    then: ({ created, source }) => expect(source(created[0]!)).toMatch(/static irreversible = true/),
  },
  {
    title: 'ledger-service widens the serial primary key of ledger.ledger from int to bigint (sequence included)',
    message: 'bigint ledger id',
    services: ['ledger-service'],
    edits: [[LEDGER, 'id: p.integer().primary().autoincrement(),', 'id: p.bigint().primary().autoincrement(),']],
  },
  {
    title: 'ledger-service adds a table in the ledger schema with a foreign key and a composite unique',
    message: 'statements',
    services: ['ledger-service'],
    edits: [['apps/ledger-service/src/db/models/index.ts', "export { Label } from './label.ts';", "export { Label } from './label.ts';\nexport { Statement } from './statement.ts';"]],
    edit() {
      ws.write(
        'apps/ledger-service/src/db/models/statement.ts',
        `import { defineEntity, p } from '@mikro-orm/core';
import { Ledger } from './ledger.ts';

export const Statement = defineEntity({
  name: 'Statement',
  tableName: 'statement',
  schema: 'ledger',
  uniques: [{ properties: ['ledger', 'periodStart'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    ledger: () => p.manyToOne(Ledger).deleteRule('cascade'),
    periodStart: p.date(),
    closingBalance: p.decimal().precision(14).scale(2).default('0'),
    lines: p.json<unknown[]>().default('[]'),
  },
});
`,
      );
    },
    then: ({ created, source }) => expect(source(created[0]!)).toContain('create table "ledger"."statement"'),
  },
  {
    title: 'identity-service adds a child to the single-table-inheritance root (own unique and nullable columns)',
    message: 'auditors',
    services: ['identity-service'],
    edits: [
      [STAFF, "admin: 'Administrator' }", "admin: 'Administrator', auditor: 'Auditor' }"],
      ['apps/identity-service/src/db/models/index.ts', 'Administrator }', 'Administrator, Auditor }'],
    ],
    edit() {
      ws.write(
        STAFF,
        `${ws.read(STAFF)}
export const Auditor = defineEntity({
  name: 'Auditor',
  extends: StaffMember,
  properties: {
    reportEmail: p.string().length(320).unique(),
    firm: p.string().length(120),
  },
});
`,
      );
    },
  },
];

/** The changes after the ownership transfer and the cross-service foreign key. */
const LATER_CHANGES: ChangeStep[] = [
  {
    title: 'publishing-service adds a composite index and a unique index',
    message: 'comment indexes',
    services: ['publishing-service'],
    edits: [
      [COMMENT, /tableName: '\w+',/, "$&\n  indexes: [{ properties: ['article', 'createdAt'] }],"],
      [ARTICLE, '    publishedAt: p.datetime().nullable(),', '    publishedAt: p.datetime().nullable().index(),'],
    ],
  },
  {
    title: 'publishing-service renames table comment to article_comment (self-reference and native enum kept)',
    message: 'rename comment',
    services: ['publishing-service'],
    destructive: true,
    edits: [[COMMENT, "tableName: 'comment',", "tableName: 'article_comment',"]],
  },
  {
    title: 'two services at once: ledger-service changes a default, widens a decimal, adds a many-to-many whose pivot table lives in the ledger schema and a check; publishing-service changes nullability both ways',
    message: 'columns',
    services: ['ledger-service', 'publishing-service'],
    edits: [
      [ARTICLE, 'description: p.string().length(1000).nullable(),', "description: p.string().length(1000).default(''),"],
      [ARTICLE, 'body: p.text(),', 'body: p.text().nullable(),'],
      [LEDGER, "currency: p.string().length(3).default('EUR')", "currency: p.string().length(3).default('USD')"],
      [LEDGER_ENTRY, 'amount: p.decimal().precision(14).scale(2)', 'amount: p.decimal().precision(18).scale(4)'],
      [LEDGER, '    openedAt:', "    watchers: () => p.manyToMany(Member).pivotTable('ledger.ledger_watchers'),\n    openedAt:"],
      [LEDGER, "  schema: 'ledger',", "  schema: 'ledger',\n  checks: [{ name: 'ledger_currency_upper', expression: 'currency = upper(currency)' }],"],
    ],
  },
  {
    title: 'publishing-service adds a native enum used by a new column',
    message: 'article visibility',
    services: ['publishing-service'],
    edits: [[ARTICLE, '    favoritesCount:', "    visibility: p.enum(['everyone', 'members', 'staff'] as const).nativeEnumName('article_visibility').default('everyone'),\n    favoritesCount:"]],
  },
  {
    title: 'publishing-service drops a table no other service references',
    message: 'drop article stats',
    services: ['publishing-service'],
    destructive: true,
    edits: [[PUBLISHING_INDEX, "export { ArticleStats } from './article-stats.ts';\n", '']],
    edit: () => ws.remove('apps/publishing-service/src/db/models/article-stats.ts'),
    then: ({ created, source }) => expect(source(created[0]!)).toMatch(/drop table if exists "article_stats"/),
  },
];

describe('conformance with MikroORM SchemaGenerator: model changes', SLOW, () => {
  changeTests(c, FIRST_CHANGES);

  it('public.entry moves from publishing-service to identity-service: an ownership transfer, no DDL, rows kept', async () => {
    const publishingLatest = latestOf(ws, 'publishing-service');
    const [member] = await c.db.query(`insert into member (email, handle) values ('reader@example.com', 'reader') returning id`);
    const [article] = await c.db.query(`insert into article (slug, title, body, author_id) values ('hello', 'Hello', 'Hi', $1) returning id`, [member.id]);
    await c.db.query('insert into entry (member_id, article_id) values ($1, $2)', [member.id, article.id]);
    try {
      const { created, source } = await c.change({
        message: 'reading list moves to identity',
        services: ['identity-service'],
        edit() {
          const moved = ws
            .read('apps/publishing-service/src/db/models/entry.ts')
            .replace("import { Member } from '../../../../identity-service/src/db/models/index.ts';", "import { Member } from './member.ts';")
            .replace("import { Article } from './article.ts';", "import { Article } from '../../../../publishing-service/src/db/models/article.ts';");
          ws.write('apps/identity-service/src/db/models/entry.ts', moved);
          ws.remove('apps/publishing-service/src/db/models/entry.ts');
          ws.edit(PUBLISHING_INDEX, "export { Entry } from './entry.ts';\n", '');
          ws.edit('apps/identity-service/src/db/models/index.ts', "export { Invitation } from './invitation.ts';", "export { Invitation } from './invitation.ts';\nexport { Entry } from './entry.ts';");
        },
      });
      const migration = source(created[0]!);
      expect(migration).not.toMatch(/create table|drop table|alter table/i);
      expect(migration).toContain(`'${publishingLatest}'`);
      expect(ws.shard('identity-service')).toContain('entry');
      expect(ws.shard('publishing-service')).not.toMatch(/"(public\.)?entry"/);
      expect(await c.db.query('select member_id from entry'), 'the saved article is still saved').toEqual([{ member_id: member.id }]);
    } finally {
      // Later changes (a column made NOT NULL) assume empty tables; the member's delete cascades to article and entry.
      await c.db.query('delete from member where id = $1', [member.id]);
    }
  });

  it('identity-service adds a unique column; ledger-service then adds a foreign key onto it and depends on that migration', async () => {
    await c.change({
      message: 'member public id',
      services: ['identity-service'],
      edits: [[MEMBER, '    handle: p.string().length(40).unique(),\n', "    handle: p.string().length(40).unique(),\n    publicId: p.uuid().unique().defaultRaw('gen_random_uuid()'),\n"]],
    });
    const identityLatest = latestOf(ws, 'identity-service');
    const { created, source } = await c.change({
      message: 'ledger reviewer',
      services: ['ledger-service'],
      edits: [[LEDGER, '    openedAt:', "    reviewer: () => p.manyToOne(Member).referencedColumnNames('public_id').columnTypes('uuid').nullable().deleteRule('set null'),\n    openedAt:"]],
    });
    expect(source(created[0]!)).toContain('references "member" ("public_id")');
    expect(source(created[0]!), 'dependsOn names the migration that added member.public_id').toContain(`'${identityLatest}'`);
  });

  changeTests(c, LATER_CHANGES);
});

describe('conformance with MikroORM SchemaGenerator: after the series', SLOW, () => {
  it('makemigrations --check is clean with the shards rebuilt from the whole stream', async () => {
    await c.expectRebuiltShardsClean('after the series');
    await c.expectMatchesModels('after the series');
  });

  it('check (with the database) passes', async () => {
    const result = await ws.migrate(['check'], { DATABASE_URL: c.db.url });
    expect(`exit ${result.code}: ${result.stderr.trim()}`).toMatch(/^exit 0/);
  });
});
