// @ts-nocheck -- legacy decorators (experimentalDecorators, emitDecoratorMetadata: see this service's tsconfig.json); the root tsconfig compiles TC39 ones.
import { PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/** Columns every commerce table has; not an entity itself. */
export abstract class BaseEntity {
  @PrimaryKey()
  id!: number;

  @Property()
  createdAt: Date = new Date();

  @Property({ onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
