/**
 * The unified app in end-to-end tests: starts the real gateway (or `npm start`) in a scratch
 * workspace on a free port, finds the URL it prints, talks JSON to it and stops it by signal,
 * every wait bounded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach } from 'vitest';
import { start, type Running } from './process.ts';
import type { RunResult, Workspace } from './workspace.ts';

export const WAIT_MS = 60_000;

/** Rejects with `what` and the process output when `promise` takes longer than `ms`. */
export function bounded<T>(promise: Promise<T>, what: string, running?: Running, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const output = running ? `\nstderr:\n${running.output().stderr}\nstdout:\n${running.output().stdout}` : '';
      reject(new Error(`${what}: nothing after ${ms} ms${output}`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `node apps/gateway/src/main.ts` (what `npm run serve` runs; `start.ts` for `npm start`) on a free port. */
export function serveGateway(ws: Workspace, env: Record<string, string | undefined> = {}, script: 'main.ts' | 'start.ts' = 'main.ts'): Running {
  return start(ws, process.execPath, [ws.path('apps/gateway/src', script)], { PORT: '0', ...env });
}

/**
 * `serveGateway` for the tests of a file: `serve(extra)` starts the gateway with `env` and `extra`;
 * whatever a test left running is killed after it.
 */
export function gatewayStarter(ws: Workspace, env: Record<string, string>): (extra?: Record<string, string>) => Running {
  const started: Running[] = [];
  afterEach(async () => {
    for (const running of started.splice(0)) if (running.child.exitCode === null) await stop(running, 'SIGKILL').catch(() => {});
  });
  return (extra = {}) => {
    const running = serveGateway(ws, { ...env, ...extra });
    started.push(running);
    return running;
  };
}

/** `npm <script>` exactly as a user types it, on a free port. */
export function npmRun(ws: Workspace, script: 'start' | 'serve', env: Record<string, string | undefined> = {}): Running {
  return start(ws, 'npm', script === 'start' ? ['start'] : ['run', script], { PORT: '0', ...env }, { detached: true });
}

/** The base URL the gateway printed once it listens. */
export async function listening(running: Running): Promise<string> {
  await bounded(running.waitFor(/listening on http:\/\/localhost:\d+/), 'the gateway to listen', running);
  const [, port] = running.output().stdout.match(/listening on http:\/\/localhost:(\d+)/)!;
  return `http://127.0.0.1:${port}`;
}

export function exited(running: Running): Promise<RunResult & { signal: NodeJS.Signals | null }> {
  return bounded(running.exited, 'the process to exit', running);
}

/** Signals the process group when it has one (`npm` does not pass signals on), else the process. */
function signal(running: Running, name: NodeJS.Signals): void {
  try {
    process.kill(-running.child.pid!, name);
  } catch {
    running.child.kill(name);
  }
}

/** Sends `name` and waits (bounded) for the exit; SIGKILL when that wait runs out. */
export async function stop(running: Running, name: NodeJS.Signals = 'SIGTERM'): Promise<RunResult & { signal: NodeJS.Signals | null }> {
  signal(running, name);
  try {
    return await exited(running);
  } catch (error) {
    signal(running, 'SIGKILL');
    await sleep(100);
    throw error;
  }
}

export async function request(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json() };
}

export function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  return request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}
