import { describe, expect, it } from 'vitest';
import { serviceNames } from './generator.ts';

describe('serviceNames', () => {
  it('derives the package, the example entity, its table and the URL prefix from the service name', () => {
    expect(serviceNames('orders-service', '@acme')).toEqual({ name: 'orders-service', packageName: '@acme/orders-service', entity: 'Order', table: 'order', entityFile: 'order', prefix: '/orders' });
    expect(serviceNames('product-categories', undefined)).toMatchObject({ packageName: 'product-categories', entity: 'ProductCategory', table: 'product_category', entityFile: 'product-category', prefix: '/product-categories' });
    expect(serviceNames('address-service', undefined, '/addr')).toMatchObject({ entity: 'Address', table: 'address', prefix: '/addr' });
  });
});
