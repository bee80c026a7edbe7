import { globSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { modelFiles } from './files.ts';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('modelFiles', () => {
  it('lists what the glob **/*.{ts,mts,js,mjs} lists, minus declarations and tests', () => {
    root = mkdtempSync(join(tmpdir(), 'tributary-model-files-'));
    const models = join(root, 'models');
    for (const dir of ['nested/deeper', '.hidden', 'folder.ts', 'node_modules/pkg', '../elsewhere']) mkdirSync(join(models, dir), { recursive: true });
    const files = ['user.ts', 'order.mts', 'legacy.js', 'esm.mjs', 'common.cts', 'types.d.ts', 'user.test.ts', 'user.spec.mjs', 'readme.md', '.dotted.ts',
      'nested/a.ts', 'nested/deeper/b.ts', '.hidden/c.ts', 'folder.ts/d.ts', 'node_modules/pkg/e.ts', '../elsewhere/f.ts'];
    for (const file of files) writeFileSync(join(models, file), '');
    symlinkSync(join(models, 'user.ts'), join(models, 'alias.ts'));
    symlinkSync(join(root, 'elsewhere'), join(models, 'linked')); // a linked folder is not walked

    const viaGlob = globSync('**/*.{ts,mts,js,mjs}', { cwd: models })
      .filter((file) => !/(\.d\.ts|\.(test|spec)\.[mc]?[jt]s)$/.test(file))
      .sort()
      .map((file) => join(models, file));
    const listed = modelFiles({ name: 'svc', dir: root, modelsDir: models });
    expect(listed).toEqual(viaGlob);
    expect(listed.map((file) => file.slice(models.length + 1))).toEqual(['alias.ts', 'esm.mjs', 'folder.ts', 'folder.ts/d.ts', 'legacy.js', 'nested/a.ts', 'nested/deeper/b.ts', 'node_modules/pkg/e.ts', 'order.mts', 'user.ts']);
    expect(modelFiles({ name: 'gone', dir: root, modelsDir: join(root, 'gone') })).toEqual([]);
  });
});
