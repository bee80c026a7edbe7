/**
 * The decorated entity set written by others (commerce-service) with its imports as TypeScript's
 * NodeNext resolution writes them (`./product.entity.js`) and its base class outside the models
 * folder (`../base.entity.js`): the models load, and a clean check remembered for them is not
 * trusted past an edit of that base class (the fingerprint followed `.js` imports to no file, so
 * the edit was answered "clean" from memory).
 */
import { expect, it } from 'vitest';
import { conformanceWorkspace } from './workspace.ts';

it('decorated public entity set imported NodeNext-style: loads, and the remembered check sees an edit of the imported base', async () => {
  const ws = conformanceWorkspace(['identity-service', 'commerce-service']);
  try {
    const models = 'apps/commerce-service/src/db/models';
    for (const file of ['product.entity.ts', 'order.entity.ts', 'index.ts']) {
      ws.write(`${models}/${file}`, ws.read(`${models}/${file}`).replace(/from '\.\/([a-z.-]+)'/g, "from './$1.js'"));
    }
    // the base class, moved out of the models folder and imported as ../base.entity.js
    ws.write('apps/commerce-service/src/db/base.entity.ts', ws.read(`${models}/base.entity.ts`));
    ws.remove(`${models}/base.entity.ts`);
    for (const file of ['product.entity.ts', 'order.entity.ts', 'index.ts', 'order-line.entity.ts', 'product-tag.entity.ts']) {
      ws.write(`${models}/${file}`, ws.read(`${models}/${file}`).replace("'./base.entity.js'", "'../base.entity.js'").replace("'./base.entity'", "'../base.entity.js'"));
    }
    const made = await ws.migrate(['makemigrations', '-m', 'initial']);
    expect(made.code, made.stdout + made.stderr).toBe(0);
    expect((await ws.migrate(['check', '--offline'])).code).toBe(0);
    expect((await ws.migrate(['check', '--offline'])).code).toBe(0); // remembered
    const base = 'apps/commerce-service/src/db/base.entity.ts';
    ws.write(base, ws.read(base).replace('  @Property()\n  createdAt', '  @Property({ length: 3 })\n  createdAt'));
    const changed = await ws.migrate(['check', '--offline']);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain('Service commerce-service has model changes without a migration (alter table');
  } finally {
    ws.dispose();
  }
});
