// @ts-nocheck -- legacy decorators (experimentalDecorators, emitDecoratorMetadata: see this service's tsconfig.json); the root tsconfig compiles TC39 ones.
import type { Rel } from '@mikro-orm/core';
import { Check, Entity, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Order } from './order.entity';
import { Product } from './product.entity';

/** One product in an order, at the price it was sold for. */
@Entity()
@Unique({ properties: ['order', 'product'] })
@Check({ name: 'order_line_quantity_positive', expression: 'quantity > 0' })
export class OrderLine {
  @PrimaryKey()
  id: number;

  // Rel<>: order.entity.ts imports this file too, and an ES module cannot read Order while
  // that cycle loads (MikroORM's advice for ESM with emitDecoratorMetadata).
  @ManyToOne(() => Order, { deleteRule: 'cascade' })
  order: Rel<Order>;

  @ManyToOne(() => Product)
  product: Product;

  @Property()
  quantity: number = 1;

  @Property({ type: 'decimal', precision: 10, scale: 2 })
  unitPrice: string;
}
