/**
 * MikroORM's side of a schema comparison: what its schema generator creates from a workspace's
 * current models, in a database of its own.
 */
import { join } from 'node:path';
import { databaseFixture, workspaceWithDatabase, type Fixture } from './fixture.ts';
import { describeSchema } from './schema.ts';
import { exec, REPO, type ScratchOptions, type Workspace } from './workspace.ts';

/** What MikroORM's schema generator creates from the workspace's current models. */
export async function referenceSchema(ws: Workspace, target: string): Promise<string[]> {
  const result = await exec(process.execPath, [join(REPO, 'test/support/reference-schema.ts'), target, ws.dir], { cwd: ws.dir });
  if (result.code !== 0) throw new Error(`reference schema failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

export interface ReferenceFixture extends Fixture {
  /** The test database's schema (describeSchema's lines). */
  schema(): Promise<string[]>;
  /** What the schema generator creates from the current models, in a second database emptied first. */
  reference(): Promise<string[]>;
}

/** workspaceWithDatabase, plus a second database for the schema generator. */
export function workspaceWithReference(options: ScratchOptions = {}): ReferenceFixture {
  const fixture = workspaceWithDatabase(options);
  const ref = databaseFixture();
  return {
    ...fixture,
    schema: () => describeSchema(fixture.db.query),
    async reference() {
      const schemas = await ref.query(`select nspname from pg_namespace where nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and nspname not like 'pg\\_%'`);
      for (const { nspname } of schemas) await ref.query(`drop schema "${nspname}" cascade`);
      await ref.query('create schema public');
      return referenceSchema(fixture.ws, ref.url);
    },
  };
}
