import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsTree, flushChanges } from 'nx/src/generators/tree.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import initGenerator, { PLUGIN } from './generator.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-init-'));
  writeFileSync(join(dir, 'nx.json'), JSON.stringify({ neverConnectToCloud: true, plugins: ['@nx/js/typescript'] }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the generator on a real Nx tree over `dir` and writes its changes, as `nx g` does. */
async function init(options = {}): Promise<string> {
  const tree = new FsTree(dir, false);
  const done = await initGenerator(tree, options);
  flushChanges(dir, tree.listChanges());
  const out: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof write;
  try {
    done();
  } finally {
    process.stdout.write = write;
  }
  return out.join('');
}
const read = (file: string) => readFileSync(join(dir, file), 'utf8');

describe('nx g @tributary/migrate:init', () => {
  it('registers the plugin after the existing ones and lets Nx load plugins in its own process', async () => {
    const said = await init();
    expect(JSON.parse(read('nx.json')).plugins).toEqual(['@nx/js/typescript', PLUGIN]);
    expect(read('.env')).toMatch(/^NX_ISOLATE_PLUGINS=false$/m);
    expect(said).toContain(`Registered ${PLUGIN} in nx.json`);
    expect(said).toContain('commit .env');
    expect(said).toContain("if your team keeps .env out of git (secrets), set NX_ISOLATE_PLUGINS=false in CI's environment instead");
  });

  it('keeps the embedded database out of git: creates .gitignore, or adds .data/ to the one there', async () => {
    const said = await init();
    expect(read('.gitignore')).toMatch(/^\.data\/$/m);
    expect(said).toContain('Added .data/ to .gitignore');

    writeFileSync(join(dir, '.gitignore'), 'node_modules\ndist');
    await init();
    expect(read('.gitignore')).toMatch(/^node_modules\ndist\n\n#[^\n]*\n\.data\/\n$/);

    writeFileSync(join(dir, '.gitignore'), 'node_modules\n/.data\n');
    const again = await init();
    expect(read('.gitignore')).toBe('node_modules\n/.data\n');
    expect(again).toContain('.gitignore already ignores .data/.');
  });

  it('run twice changes nothing the second time', async () => {
    await init();
    const [nxJson, env, gitignore] = [read('nx.json'), read('.env'), read('.gitignore')];
    const said = await init();
    expect([read('nx.json'), read('.env'), read('.gitignore')]).toEqual([nxJson, env, gitignore]);
    expect(said).toContain(`nx.json already registers ${PLUGIN}`);
    expect(said).toContain('.env already sets NX_ISOLATE_PLUGINS=false');
  });

  it("keeps the workspace's own .env lines and its own choice of plugin isolation", async () => {
    writeFileSync(join(dir, '.env'), 'API_URL=http://localhost:3000');
    await init();
    expect(read('.env')).toMatch(/^API_URL=http:\/\/localhost:3000\n\n#[^\n]*\n#[^\n]*\nNX_ISOLATE_PLUGINS=false\n$/);

    writeFileSync(join(dir, '.env'), 'NX_ISOLATE_PLUGINS=true\n');
    const said = await init();
    expect(read('.env')).toBe('NX_ISOLATE_PLUGINS=true\n');
    expect(said).toContain('.env already sets NX_ISOLATE_PLUGINS=true: left as it is.');
  });

  it('--keepPluginIsolation writes no .env', async () => {
    const said = await init({ keepPluginIsolation: true });
    expect(() => read('.env')).toThrow();
    expect(said).toContain('nothing written to .env');
  });
});
