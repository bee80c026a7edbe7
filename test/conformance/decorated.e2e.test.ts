/**
 * Conformance for decorated entity classes: commerce-service is written the way most MikroORM
 * code bases are (legacy decorators, property types from reflect-metadata, a non-entity base
 * class, a TypeScript enum, extensionless imports, a foreign key into identity-service's
 * `defineEntity` member). Its migrations must build what MikroORM's SchemaGenerator creates from
 * the same classes, initially and after changes, with `makemigrations --check` clean.
 */
import { describe, it } from 'vitest';
import { conformanceSuite, initialSchemaTests } from './harness.ts';

const suite = conformanceSuite(['identity-service', 'commerce-service']);
const { c, ws } = suite;

// Each step runs several CLI processes, a shard rebuild replays the stream in PGlite: room for a busy machine.
const SLOW = { timeout: 300_000 };

const MODELS = 'apps/commerce-service/src/db/models';

describe('conformance of decorated entities with MikroORM SchemaGenerator', SLOW, () => {
  initialSchemaTests(suite, ['identity-service', 'commerce-service'], [
    'relation public.orders kind=r',
    'relation public.product_tags kind=r',
    // Types from reflect-metadata, columns of the base class.
    'column public.product.active boolean not null default true',
    'column public.product.created_at timestamp with time zone not null',
    "constraint public.orders.orders_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'paid'::text, 'shipped'::text, 'cancelled'::text])))",
  ]);

  it('a decorated class gains a property (type from reflect-metadata), an index and an enum value', async () => {
    await c.change({
      message: 'stock and refunds',
      services: ['commerce-service'],
      edit() {
        ws.edit(`${MODELS}/product.entity.ts`, '  @Property()\n  active = true;', '  @Property()\n  active = true;\n\n  @Property({ index: true })\n  stock: number = 0;');
        ws.edit(`${MODELS}/order.entity.ts`, "  CANCELLED = 'cancelled',", "  CANCELLED = 'cancelled',\n  REFUNDED = 'refunded',");
      },
    });
  });

  it('a new decorated entity with a foreign key into identity-service, and a dropped column', async () => {
    await c.change({
      message: 'reviews',
      services: ['commerce-service'],
      destructive: true,
      edit() {
        ws.write(
          `${MODELS}/review.entity.ts`,
          `import { Entity, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Member } from '../../../../identity-service/src/db/models/index.ts';
import { Product } from './product.entity';

@Entity()
@Unique({ properties: ['product', 'author'] })
export class Review {
  @PrimaryKey()
  id: number;

  @ManyToOne(() => Product, { deleteRule: 'cascade' })
  product: Product;

  @ManyToOne({ entity: () => Member, deleteRule: 'cascade' })
  author: any;

  @Property({ type: 'smallint' })
  stars: number;

  @Property({ type: 'text', nullable: true })
  body?: string;
}
`,
        );
        ws.edit(`${MODELS}/index.ts`, "export { OrderLine } from './order-line.entity';", "export { OrderLine } from './order-line.entity';\nexport { Review } from './review.entity';");
        ws.edit(`${MODELS}/product.entity.ts`, "  @Property({ nullable: true })\n  formats?: string[];\n", '');
      },
    });
  });
});
