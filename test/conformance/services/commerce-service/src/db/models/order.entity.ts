// @ts-nocheck -- legacy decorators (experimentalDecorators, emitDecoratorMetadata: see this service's tsconfig.json); the root tsconfig compiles TC39 ones.
import { Collection } from '@mikro-orm/core';
import { Entity, Enum, ManyToOne, OneToMany, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { Member } from '../../../../identity-service/src/db/models/index.ts';
import { OrderLine } from './order-line.entity';

export enum OrderStatus {
  PENDING = 'pending',
  PAID = 'paid',
  SHIPPED = 'shipped',
  CANCELLED = 'cancelled',
}

/** A member's purchase; the buyer is identity-service's member (a defineEntity entity). */
@Entity({ tableName: 'orders' })
export class Order {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id: string;

  @ManyToOne({ entity: () => Member, deleteRule: 'restrict' })
  buyer: any;

  @Enum(() => OrderStatus)
  status: OrderStatus = OrderStatus.PENDING;

  @Property({ type: 'decimal', precision: 12, scale: 2, default: '0' })
  total: string = '0';

  @Property({ nullable: true })
  placedAt?: Date;

  @OneToMany(() => OrderLine, (line) => line.order)
  lines = new Collection<OrderLine>(this);
}
