import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { discoverServices } from './services.ts';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('discoverServices', () => {
  it("lists services in localeCompare's order of their names", () => {
    root = mkdtempSync(join(tmpdir(), 'tributary-services-'));
    writeFileSync(join(root, 'nx.json'), '{}');
    const names = ['svc-10', 'svc2', 'svc-2', 'ab', 'a-b', 'a0', 'a-0', 'z', '9-lives', 'svc-a', 'svc--b'];
    for (const name of names) {
      mkdirSync(join(root, 'apps', name, 'src/db/models'), { recursive: true });
      writeFileSync(join(root, 'apps', name, 'package.json'), JSON.stringify({ name }));
    }
    const found = discoverServices(loadConfig({ cwd: root })).map((service) => service.name);
    expect(found).toEqual([...names].sort((a, b) => a.localeCompare(b)));
  });
});
