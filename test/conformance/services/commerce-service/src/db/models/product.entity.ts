// @ts-nocheck -- legacy decorators (experimentalDecorators, emitDecoratorMetadata: see this service's tsconfig.json); the root tsconfig compiles TC39 ones.
import { Collection } from '@mikro-orm/core';
import { Entity, Index, ManyToMany, Property } from '@mikro-orm/decorators/legacy';
import { BaseEntity } from './base.entity';
import { ProductTag } from './product-tag.entity';

/** Something the shop sells (an e-book, a subscription, a print copy). */
@Entity()
@Index({ properties: ['title', 'active'] })
export class Product extends BaseEntity {
  @Property({ length: 64, unique: true })
  sku: string;

  @Property()
  title: string;

  @Property({ type: 'text', nullable: true })
  description?: string;

  @Property({ type: 'decimal', precision: 10, scale: 2 })
  price: string;

  @Property()
  active = true;

  @Property({ type: 'json', nullable: true })
  attributes?: Record<string, unknown>;

  @Property({ nullable: true })
  formats?: string[];

  @ManyToMany(() => ProductTag, (tag) => tag.products, { owner: true })
  tags = new Collection<ProductTag>(this);

  constructor(sku: string, title: string, price: string) {
    super();
    this.sku = sku;
    this.title = title;
    this.price = price;
  }
}
