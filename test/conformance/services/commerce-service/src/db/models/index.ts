// @ts-nocheck -- re-exports legacy-decorated classes (see base.entity.ts).
export { BaseEntity } from './base.entity';
export { Product } from './product.entity';
export { ProductTag } from './product-tag.entity';
export { Order, OrderStatus } from './order.entity';
export { OrderLine } from './order-line.entity';
