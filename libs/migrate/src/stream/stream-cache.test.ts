import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { readStreamCached, streamStamps, takeBytesReadInScope, withOneStreamRead } from './stream-cache.ts';
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

/** Another thread that adopts `stamps` and reads the stream: how many files it hashed, and the checksums. */
async function readInWorker(stamps: unknown): Promise<{ hashed: number; checksums: string[] }> {
  const script = join(root, 'read-in-worker.mjs');
  writeFileSync(script, `import { parentPort, workerData } from 'node:worker_threads';
const m = await import(${JSON.stringify(new URL('./stream-cache.ts', import.meta.url).href)});
m.adoptStreamStamps(workerData.dir, workerData.stamps);
const entries = m.readStreamCached(workerData.dir);
parentPort.postMessage({ hashed: m.migrationFilesHashed(), checksums: entries.map((e) => e.checksum) });
`);
  const worker = new Worker(script, { workerData: { dir: migrations, stamps } });
  try {
    return await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  } finally {
    await worker.terminate();
  }
}

describe("the stream handed to another thread (check's database part)", () => {
  it('is hashed there only where a file changed since this thread read it', async () => {
    const checksums = readStreamCached(migrations).map((e) => e.checksum);
    expect(await readInWorker(streamStamps(migrations))).toEqual({ hashed: 0, checksums });
    const stamps = streamStamps(migrations);
    appendFileSync(join(migrations, `${names[2]}.ts`), '// edited in between\n');
    const after = await readInWorker(stamps);
    expect(after.hashed).toBe(1);
    expect(after.checksums[2]).toBe(checksumOf(`// ${names[2]}\n// edited in between\n`));
  });
});

describe('one read of the stream per command', () => {
  it('gives every part of it the same files, and the next command the files as they are', async () => {
    const file = join(migrations, `${names[0]}.ts`);
    const [first, second, outside] = await withOneStreamRead(async () => {
      const first = readStreamCached(migrations);
      appendFileSync(file, '// edited during the command\n');
      await new Promise((resolve) => setTimeout(resolve, 5)); // across awaits too
      return [first, readStreamCached(migrations), await Promise.resolve().then(() => withOneStreamRead(() => readStreamCached(migrations)))];
    });
    expect(second).toEqual(first);
    expect(outside[0]!.checksum).not.toBe(first[0]!.checksum); // a scope of its own reads again
    expect(readStreamCached(migrations)[0]!.checksum).toBe(outside[0]!.checksum);
  });
});

describe('the bytes a command read', () => {
  it('are handed out once within its scope, and not kept past it', async () => {
    const fresh = join(root, 'migrations-bytes');
    mkdirSync(fresh);
    writeFileSync(join(fresh, `${names[0]}.ts`), '// bytes\n');
    const [first, again] = await withOneStreamRead(async () => {
      const [entry] = readStreamCached(fresh);
      return [takeBytesReadInScope(entry!)?.toString(), takeBytesReadInScope(entry!)];
    });
    expect(first).toBe('// bytes\n');
    expect(again).toBeUndefined();
    // The next command finds the file unchanged (a stat), and no bytes from the last one.
    const later = withOneStreamRead(() => takeBytesReadInScope(readStreamCached(fresh)[0]!));
    expect(later).toBeUndefined();
  });
});
