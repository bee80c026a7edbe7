/**
 * The usual set-up of an end-to-end test file (or describe block), once: a scratch copy of the
 * workspace, a fresh PostgreSQL database, or both (its URL in `env.DATABASE_URL`), created before
 * the tests and removed after them; with `migrated`, the committed stream is applied first.
 *
 * The workspace and database exist only once vitest runs `beforeAll`, so the handles returned here
 * forward every use to them: a file writes `const { ws, db, env } = workspaceWithDatabase()` at the
 * top and uses them in its tests (and in its own hooks, which run after these) as plain values.
 */
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { scratchWorkspace, type ScratchOptions, type Workspace } from './workspace.ts';

export interface Fixture {
  ws: Workspace;
  db: TestDatabase;
  env: Record<string, string>;
}

/** A scratch workspace alone (the embedded database, or none). */
export function workspaceFixture(options: ScratchOptions = {}): Workspace {
  let ws: Workspace | undefined;
  beforeAll(() => {
    ws = scratchWorkspace(options);
  });
  afterAll(() => ws?.dispose());
  return forwarding(() => ws, 'ws');
}

/** A fresh PostgreSQL database alone. */
export function databaseFixture(): TestDatabase {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());
  return forwarding(() => db, 'db');
}

export function workspaceWithDatabase(options: ScratchOptions & { migrated?: boolean } = {}): Fixture {
  const ws = workspaceFixture(options);
  const db = databaseFixture();
  const env: Record<string, string> = {};
  beforeAll(async () => {
    env.DATABASE_URL = db.url;
    if (options.migrated) await ws.migrateOk(['migrate'], env);
  });
  return { ws, db, env };
}

/** A handle that forwards every use to what `current` returns once it exists. */
export function forwarding<T extends object>(current: () => T | undefined, name: string): T {
  return new Proxy({} as T, {
    get(_target, key) {
      const value = current();
      if (!value) throw new Error(`${name} is used before beforeAll created it (use it inside a test or hook).`);
      const member = Reflect.get(value, key);
      return typeof member === 'function' ? member.bind(value) : member;
    },
  });
}
