/**
 * The embedded database's lock file across real processes: a live holder is named to the next
 * process, a lock left by a dead process is taken over, and when two processes take over the same
 * stale lock at the same moment exactly one wins and the other is told who holds it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LOCK_MODULE = join(import.meta.dirname, 'file-lock.ts');
let dir: string;
let dead: number;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-file-lock-'));
  dead = deadPid();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited, so a lock naming it is stale. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function staleLock(path: string): void {
  writeFileSync(path, JSON.stringify({ pid: dead, command: 'a process that crashed' }));
}

/**
 * A process that waits until `startAt` (ms since the epoch), then takes each lock in turn and
 * prints one JSON line per lock: `{won: true}` or `{error}`; it holds what it won until stdin closes.
 */
function contender(paths: string[], startAt: number) {
  const script = `
    import { acquireFileLock } from ${JSON.stringify(LOCK_MODULE)};
    const paths = ${JSON.stringify(paths)};
    while (Date.now() < ${startAt}) {} // start together, to the millisecond
    const results = paths.map((path) => {
      try { acquireFileLock(path, 'embedded PGlite (test)'); return { won: true }; }
      catch (error) { return { error: error.message }; }
    });
    process.stdout.write(JSON.stringify(results) + '\\n');
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  const results = new Promise<Array<{ won?: boolean; error?: string }>>((resolve, reject) => {
    child.stdout.on('data', () => {
      if (out.includes('\n')) resolve(JSON.parse(out));
    });
    child.on('close', (code) => reject(new Error(`contender exited (${code}) before reporting: ${err}`)));
  });
  return { pid: child.pid!, results, release: () => new Promise((resolve) => (child.on('close', resolve), child.stdin.end())) };
}

describe('the PGlite lock file', () => {
  it('takes over a lock left by a dead process, and names a live holder to the next one', async () => {
    const path = join(dir, 'single.lock');
    staleLock(path);
    const first = contender([path], Date.now());
    expect(await first.results).toEqual([{ won: true }]);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(first.pid);
    const second = contender([path], Date.now());
    const [refused] = await second.results;
    expect(refused!.error).toMatch(new RegExp(`^The embedded PGlite \\(test\\) is in use by process ${first.pid} `));
    await Promise.all([first.release(), second.release()]);
    expect(existsSync(path)).toBe(false);
  });

  it('two processes taking over the same stale locks at once: exactly one wins each, the other is told it is in use', async () => {
    const paths = Array.from({ length: 200 }, (_, i) => join(dir, `race-${i}.lock`));
    for (const path of paths) staleLock(path);
    const startAt = Date.now() + 1500;
    const racers = [contender(paths, startAt), contender(paths, startAt)];
    const [a, b] = await Promise.all(racers.map((r) => r.results));
    try {
      paths.forEach((path, i) => {
        const wins = [a![i]!, b![i]!].filter((r) => r.won);
        expect(wins, `${path}: ${JSON.stringify([a![i], b![i]])}`).toHaveLength(1);
        const loser = a![i]!.won ? b![i]! : a![i]!;
        const winner = a![i]!.won ? racers[0]! : racers[1]!;
        expect(loser.error).toContain(`is in use by process ${winner.pid}`);
        expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(winner.pid);
      });
    } finally {
      await Promise.all(racers.map((r) => r.release()));
    }
  });
});
