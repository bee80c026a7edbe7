/**
 * The usual set-up of an end-to-end test file, once: a scratch copy of the workspace and a fresh
 * PostgreSQL database (its URL in `env.DATABASE_URL`), created before the file's tests and
 * removed after them; with `migrated`, the committed stream is applied first.
 *
 * `ws` and `db` exist only once vitest runs `beforeAll`, so the handles returned here forward
 * every use to them: a file writes `const { ws, db, env } = workspaceWithDatabase()` at the top
 * and uses them in its tests as plain values.
 */
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { scratchWorkspace, type ScratchOptions, type Workspace } from './workspace.ts';

export interface Fixture {
  ws: Workspace;
  db: TestDatabase;
  env: Record<string, string>;
}

export function workspaceWithDatabase(options: ScratchOptions & { migrated?: boolean } = {}): Fixture {
  let ws: Workspace | undefined;
  let db: TestDatabase | undefined;
  const env: Record<string, string> = {};
  beforeAll(async () => {
    ws = scratchWorkspace(options);
    db = await createTestDatabase();
    env.DATABASE_URL = db.url;
    if (options.migrated) {
      const result = await ws.migrate(['migrate'], env);
      if (result.code !== 0) throw new Error(`migrating the committed stream failed: ${result.stderr}`);
    }
  });
  afterAll(async () => {
    await db?.drop();
    ws?.dispose();
  });
  return { ws: forwarding(() => ws, 'ws'), db: forwarding(() => db, 'db'), env };
}

function forwarding<T extends object>(current: () => T | undefined, name: string): T {
  return new Proxy({} as T, {
    get(_target, key) {
      const value = current();
      if (!value) throw new Error(`${name} is used before beforeAll created it (use it inside a test or hook).`);
      const member = Reflect.get(value, key);
      return typeof member === 'function' ? member.bind(value) : member;
    },
  });
}
