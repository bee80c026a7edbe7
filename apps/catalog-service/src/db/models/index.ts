export { Category } from './category.ts';
export { Product } from './product.ts';
