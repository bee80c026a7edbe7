/**
 * `npm start` and `npm run serve` under a process manager, which signals the npm process alone
 * (not its process group): SIGTERM to npm's pid ends the gateway too, within a bound — no process
 * of the workspace left behind, the port free, the embedded database's lock file gone.
 */
import { existsSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bounded, listening, npmRun, request } from './support/gateway.ts';
import { until, type Running } from './support/process.ts';
import { scratchWorkspace, type Workspace } from './support/workspace.ts';

let ws: Workspace;
let dir: string;
const started: Running[] = [];

beforeAll(() => {
  ws = scratchWorkspace();
  dir = realpathSync(ws.dir);
});

/** Whatever is left (the test failed): the whole group, then anything still working in the workspace. */
afterEach(() => {
  for (const running of started.splice(0)) {
    try {
      process.kill(-running.child.pid!, 'SIGKILL');
    } catch {}
  }
  for (const pid of processesIn(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
});

afterAll(() => ws?.dispose());

/** Pids of the processes whose working directory is `folder` (npm, its shell, node). */
function processesIn(folder: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === folder) pids.push(Number(entry));
    } catch {} // gone, or not ours to read
  }
  return pids;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

describe('SIGTERM to the npm process alone', () => {
  for (const script of ['start', 'serve'] as const) {
    it(`npm ${script === 'start' ? 'start' : 'run serve'}: the gateway closes too — no process left, the port free, no PGlite lock`, async () => {
      const npm = npmRun(ws, script);
      started.push(npm);
      const url = await listening(npm);
      const port = Number(new URL(url).port);
      expect((await request(`${url}/health`)).status).toBe(200);
      expect(existsSync(ws.path('.data/pglite.lock'))).toBe(true);
      expect(processesIn(dir).length).toBeGreaterThanOrEqual(2); // npm and node (and sh between them)

      // npm's own exit, not the end of its output: a node process left behind would hold the pipes open.
      const npmExited = new Promise((resolve) => npm.child.once('exit', resolve));
      process.kill(npm.child.pid!, 'SIGTERM'); // npm only, as a process manager does
      await bounded(npmExited, 'npm to exit', npm);
      await until(async () => processesIn(dir).length === 0, `every process of the workspace to exit (left: ${processesIn(dir).join(', ')})`, 20);
      expect(await portIsFree(port)).toBe(true);
      expect(existsSync(ws.path('.data/pglite.lock'))).toBe(false);
      // It closed, rather than died: the server and the database were closed on the way out.
      const { stderr } = await bounded(npm.exited, 'the output to end', npm);
      expect(stderr).toMatch(/(SIGTERM|the parent process is gone): closing the server and the database…/);
      expect(stderr).not.toContain('shutdown failed');
    });
  }
});
