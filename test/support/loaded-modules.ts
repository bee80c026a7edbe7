/**
 * Which modules a real CLI run loads: `migrate` started with a module hook that notes every
 * module's URL, for tests that prove a command never loads what it does not need.
 */
import { expect } from 'vitest';
import type { Workspace } from './workspace.ts';

/** The URLs of every module `migrate <args>` loaded; the run must succeed. */
export async function modulesLoadedBy(ws: Workspace, args: string[], env: Record<string, string | undefined> = {}): Promise<string[]> {
  const list = ws.path('loaded-modules.txt');
  ws.write('loaded-modules.mjs', `import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
registerHooks({ load(url, context, next) { appendFileSync(${JSON.stringify(list)}, url + '\\n'); return next(url, context); } });
`);
  ws.write('loaded-modules.txt', '');
  const result = await ws.migrate(args, { ...env, NODE_OPTIONS: `--import ${ws.path('loaded-modules.mjs')}` });
  expect(result.code, result.stderr).toBe(0);
  return ws.read('loaded-modules.txt').split('\n').filter(Boolean);
}

/** Which of `packages` are among the loaded modules. */
export const packagesAmong = (loaded: string[], ...packages: string[]): string[] => packages.filter((p) => loaded.some((url) => url.includes(`/node_modules/${p}/`)));
