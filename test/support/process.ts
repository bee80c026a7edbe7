/**
 * Long-running CLI processes for tests that must act while a command runs (kill it, hold a lock
 * against it): output is collected as it arrives and can be awaited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cleanEnv, type RunResult, type Workspace } from './workspace.ts';

export interface Running {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves when stdout or stderr contains `text`; rejects if the process exits first. */
  waitFor(text: string | RegExp): Promise<void>;
  exited: Promise<RunResult & { signal: NodeJS.Signals | null }>;
}

/** `detached`: its own process group, so that a signal to `-pid` reaches `npm` and the node it starts. */
export function start(ws: Workspace, command: string, args: string[], env: Record<string, string | undefined> = {}, options: { detached?: boolean } = {}): Running {
  const child = spawn(command, args, { cwd: ws.dir, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((listener) => listener());
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => ((stdout += chunk), changed()));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => ((stderr += chunk), changed()));
  const exited = new Promise<RunResult & { signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      changed();
      resolve({ code: code ?? 1, signal, stdout, stderr });
    }),
  );
  let done = false;
  exited.then(() => (done = true));
  const matches = (text: string | RegExp) => (typeof text === 'string' ? stdout.includes(text) || stderr.includes(text) : text.test(stdout) || text.test(stderr));
  return {
    child,
    output: () => ({ stdout, stderr }),
    waitFor: (text) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (matches(text)) {
            listeners.delete(check);
            resolve();
          } else if (done) {
            listeners.delete(check);
            reject(new Error(`process exited before printing ${text}:\n${stderr}${stdout}`));
          }
        };
        listeners.add(check);
        check();
      }),
    exited,
  };
}

/** Starts the real `migrate` CLI of the workspace. */
export function startMigrate(ws: Workspace, args: string[], env: Record<string, string | undefined> = {}): Running {
  return start(ws, process.execPath, [ws.path('node_modules/.bin/migrate'), ...args], env);
}

/** Polls `probe` until it returns true (a condition in the database, say); fails after `seconds`. */
export async function until(probe: () => Promise<boolean>, what: string, seconds = 60): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
