/**
 * `npm start` on a fresh clone with nothing but Node: it migrates the embedded PGlite database
 * and serves in one process, SIGTERM closes the database so that the next start (or
 * `npm run serve`) reopens it with the data intact, and a second process is refused clearly.
 */
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exited, listening, npmRun, post, request, serveGateway, stop } from './support/gateway.ts';
import type { Running } from './support/process.ts';
import { scratchWorkspace, type Workspace } from './support/workspace.ts';

let ws: Workspace;
const started: Running[] = [];

beforeAll(() => {
  ws = scratchWorkspace();
});

afterEach(async () => {
  for (const running of started.splice(0)) if (running.child.exitCode === null) await stop(running, 'SIGKILL').catch(() => {});
});

afterAll(() => ws?.dispose());

function npm(script: 'start' | 'serve', env: Record<string, string> = {}): Running {
  const running = npmRun(ws, script, env);
  started.push(running);
  return running;
}

/** The process's stderr lines, without npm's own. */
function ownLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line && !line.startsWith('npm '));
}

function expectCleanShutdown(result: { stderr: string }, signal: string): void {
  expect(result.stderr).toContain(`${signal}: closing the server and the database…`);
  expect(result.stderr).not.toContain('shutdown failed');
  expect(existsSync(ws.path('.data/pglite.lock'))).toBe(false);
}

describe('npm start on the embedded database', () => {
  it('migrates the embedded database, then serves in the same process and prints where', async () => {
    expect(existsSync(ws.path('.data/pglite'))).toBe(false);
    const app = npm('start');
    const url = await listening(app);
    const { stdout, stderr } = app.output();
    // Its first words say what the first start does, before the database (or the ORM) is ready.
    expect(ownLines(stderr)[0]).toBe('Creating the embedded database in .data/pglite, then applying migrations…');
    expect(stderr.indexOf('Creating the embedded database')).toBeLessThan(stderr.indexOf('Using embedded PGlite (.data/pglite)'));
    expect(stderr).toMatch(/Applied 3 pending migrations: \d{8}_\d{6}_auth-service_initial, /);
    expect(stdout).toMatch(/Gateway listening on http:\/\/localhost:\d+ \(migrations up to date; GET \/health\)/);
    const health = await request(`${url}/health`);
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', migrations: { applied: 3, pending: 0 } } });
    expect(health.body.migrations.head).toBe(ws.migrations().at(-1)!.replace(/\.ts$/, ''));
    expect((await post(`${url}/auth/users`, { email: 'grace@example.com', displayName: 'Grace' })).status).toBe(201);

    // PGlite is single-process: a second gateway is refused with the holder named, not corrupted.
    const second = await exited(npm('serve'));
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/error: The embedded PGlite \(\.data\/pglite\) is in use by process \d+/);

    // Ctrl-C or SIGTERM reach the whole group; npm itself exits 143, the gateway closes cleanly.
    expectCleanShutdown(await stop(app), 'SIGTERM');
  });

  it('reopens after SIGTERM with the data kept: npm run serve, then npm start again', async () => {
    const serve = npm('serve');
    const url = await listening(serve);
    expect(serve.output().stderr).not.toContain('⚠');
    expect((await request(`${url}/auth/users`)).body.map((u: any) => u.email)).toEqual(['grace@example.com']);
    expectCleanShutdown(await stop(serve, 'SIGINT'), 'SIGINT');

    const again = npm('start');
    const url2 = await listening(again);
    expect(again.output().stderr).not.toContain('Applied');
    expect(ownLines(again.output().stderr)[0]).toBe('Starting: applying pending migrations to embedded PGlite (.data/pglite), then serving…');
    expect((await request(`${url2}/health`)).body.status).toBe('ok');
    expectCleanShutdown(await stop(again), 'SIGTERM');
  });

  it('a signal during boot lets the migration step finish, then closes without serving', async () => {
    const fresh = scratchWorkspace();
    try {
      const gateway = serveGateway(fresh, {}, 'start.ts');
      started.push(gateway);
      await gateway.waitFor('Using embedded PGlite');
      gateway.child.kill('SIGTERM');
      const result = await exited(gateway);
      expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
      expect(result.stderr).toMatch(/SIGTERM: (stopping once the current startup step is done|closing the server and the database)/);
      expect(existsSync(fresh.path('.data/pglite.lock'))).toBe(false);
      const shown = await fresh.migrate(['showmigrations', '--json']);
      expect(JSON.parse(shown.stdout)).toMatchObject({ applied: 3, pending: 0 });
    } finally {
      fresh.dispose();
    }
  });
});
