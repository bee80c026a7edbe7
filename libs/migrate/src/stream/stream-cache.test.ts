import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checksumOf } from './stream.ts';

const root = mkdtempSync(join(tmpdir(), 'tributary-stream-cache-'));
const migrations = join(root, 'migrations');
mkdirSync(join(root, 'node_modules'));
mkdirSync(migrations);
afterAll(() => rmSync(root, { recursive: true, force: true }));
const names = ['20300101_000001_auth-service_a', '20300101_000002_auth-service_b', '20300101_000003_billing-service_c'];
for (const name of names) writeFileSync(join(migrations, `${name}.ts`), `// ${name}\n`);

/** A new process reads the stream as the boot check does: how many files it hashed, and the checksums. */
function bootRead(): { hashed: number; checksums: string[] } {
  const script = `const m = await import(${JSON.stringify(new URL('./stream-cache.ts', import.meta.url).href)});
const entries = m.readStreamCached(${JSON.stringify(migrations)}, ${JSON.stringify(root)});
console.log(JSON.stringify({ hashed: m.migrationFilesHashed(), checksums: entries.map((e) => e.checksum) }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}

describe('the stream as the boot check reads it', () => {
  it('is hashed once: the next process reads only files changed since, and sees every change', () => {
    expect(bootRead().hashed).toBe(3);
    expect(bootRead()).toEqual({ hashed: 0, checksums: names.map((name) => checksumOf(`// ${name}\n`)) });
    appendFileSync(join(migrations, `${names[1]}.ts`), '// edited\n');
    const afterEdit = bootRead();
    expect(afterEdit.hashed).toBe(1);
    expect(afterEdit.checksums[1]).toBe(checksumOf(`// ${names[1]}\n// edited\n`));
    expect(bootRead().hashed).toBe(0);
  });
});
