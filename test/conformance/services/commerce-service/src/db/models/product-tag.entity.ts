// @ts-nocheck -- legacy decorators (experimentalDecorators, emitDecoratorMetadata: see this service's tsconfig.json); the root tsconfig compiles TC39 ones.
import { Collection } from '@mikro-orm/core';
import { Entity, ManyToMany, Property } from '@mikro-orm/decorators/legacy';
import { BaseEntity } from './base.entity';
import { Product } from './product.entity';

/** A label shoppers filter products by. */
@Entity()
export class ProductTag extends BaseEntity {
  @Property({ length: 50, unique: true })
  name: string;

  @ManyToMany(() => Product, (product) => product.tags)
  products = new Collection<Product>(this);

  constructor(name: string) {
    super();
    this.name = name;
  }
}
