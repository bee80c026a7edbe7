/**
 * The conformance steps on one scratch workspace and one PostgreSQL database: run the real CLI,
 * compare the database with what MikroORM's SchemaGenerator builds from the same models in a
 * database of its own, check that nothing is left to generate (also from rebuilt shards), and
 * round-trip a change through rollback. A change that fails to generate or apply is undone
 * (models, stream and database) so that the next change starts from a consistent state.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { exec, REPO, type RunResult, type Workspace } from '../support/workspace.ts';
import { catalogDifference, catalogLines } from './catalog.ts';

export interface Conformance {
  ws: Workspace;
  db: TestDatabase;
  /** Runs the CLI; throws with its output unless it exits 0. */
  cli(...args: string[]): Promise<RunResult>;
  /** The database's catalog lines. */
  catalog(): Promise<string[]>;
  /** The catalog MikroORM's SchemaGenerator creates from the current models in a fresh database. */
  reference(): Promise<string[]>;
  /** Fails with the lines that differ when the database is not what the SchemaGenerator creates. */
  expectMatchesModels(when: string, built?: string[]): Promise<string[]>;
  /** `makemigrations --check` must exit 0 and write nothing. */
  expectCheckClean(when: string): Promise<void>;
  /** Deletes the shards; `makemigrations --check` rebuilds them and must be clean, with no new file. */
  expectRebuiltShardsClean(when: string): Promise<void>;
  change(spec: ChangeSpec): Promise<ChangeResult>;
}

export interface ChangeSpec {
  /** `-m` of makemigrations. */
  message: string;
  /** Edits the models of the scratch workspace. */
  edit(): void;
  /** Services expected to get a migration, in file order. */
  services: string[];
  /** The change drops something: `migrate` gets `--allow-destructive` (when the CLI has it). */
  destructive?: boolean;
  /** Defaults to true: rollback must restore the schema before the change, then migrate again. */
  reversible?: boolean;
}

export interface ChangeResult {
  /** New migration files (names with `.ts`). */
  created: string[];
  source(file: string): string;
}

export async function startConformance(ws: Workspace): Promise<Conformance> {
  const db = await createTestDatabase('tributary_conformance');
  const env = { DATABASE_URL: db.url };
  const cli = async (...args: string[]) => {
    const result = await ws.migrate(args, env);
    if (result.code !== 0) throw new Error(`migrate ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`.trim());
    return result;
  };
  const catalog = () => catalogLines(db.query);
  let destructive: string[] | undefined;
  // The contract's `migrate --allow-destructive` (lint errors acknowledged); older CLIs have no such gate.
  const destructiveFlags = async () => (destructive ??= (await ws.migrate(['migrate', '--help'], env)).stdout.includes('--allow-destructive') ? ['--allow-destructive'] : []);

  const reference = async () => {
    const scratch = await createTestDatabase('tributary_conformance_ref');
    try {
      const result = await exec(process.execPath, [join(REPO, 'test/conformance/reference-schema.ts'), scratch.url, ws.dir], { cwd: ws.dir });
      if (result.code !== 0) throw new Error(`MikroORM's SchemaGenerator failed on the models: ${result.stderr}`);
      return JSON.parse(result.stdout) as string[];
    } finally {
      await scratch.drop();
    }
  };

  const expectMatchesModels = async (when: string, built?: string[]) => {
    const expected = built ?? (await reference());
    expect(expected.length, 'the reference schema is not empty').toBeGreaterThan(10);
    const difference = catalogDifference(await catalog(), expected);
    expect.soft(difference, `${when}: database vs MikroORM's SchemaGenerator (missing = only in the reference, unexpected = only in the database)`).toEqual({ missing: [], unexpected: [] });
    return expected;
  };

  const expectCheckClean = async (when: string) => {
    const before = ws.migrations();
    const result = await ws.migrate(['makemigrations', '--check'], env);
    expect.soft(`exit ${result.code}: ${result.stderr.trim()}`, `${when}: makemigrations --check`).toMatch(/^exit 0/);
    expect.soft(ws.migrations(), `${when}: makemigrations --check wrote no file`).toEqual(before);
  };

  const expectRebuiltShardsClean = async (when: string) => {
    // --check writes nothing, so the shards are put back afterwards: later commands need not rebuild them again.
    const shards = ws.path('migrations/.snapshots');
    const kept = existsSync(shards) ? mkdtempSync(join(tmpdir(), 'tributary-conformance-shards-')) : undefined;
    if (kept) cpSync(shards, kept, { recursive: true });
    rmSync(shards, { recursive: true, force: true });
    try {
      await expectCheckClean(`${when} (shards deleted, rebuilt from the stream)`);
    } finally {
      if (kept) {
        rmSync(shards, { recursive: true, force: true });
        cpSync(kept, shards, { recursive: true });
        rmSync(kept, { recursive: true, force: true });
      }
    }
  };

  const change = async (spec: ChangeSpec): Promise<ChangeResult> => {
    const saved = saveState(ws);
    const before = await catalog();
    const filesBefore = ws.migrations();
    let created: string[] = [];
    let expected: Promise<string[]> | undefined;
    try {
      spec.edit();
      // The SchemaGenerator's side needs only the models: build it while the CLI works.
      expected = reference();
      expected.catch(() => {});
      await cli('makemigrations', '-m', spec.message);
      created = ws.migrations().filter((file) => !filesBefore.includes(file));
      expect(created.map(serviceOf), `${spec.message}: services that got a migration`).toEqual(spec.services);
      await cli('migrate', ...(spec.destructive ? await destructiveFlags() : []));
    } catch (error) {
      await expected?.catch(() => {});
      await undo(saved, created);
      throw error;
    }
    saved.discard();
    await expectMatchesModels(`${spec.message}: after migrate`, await expected);
    const after = await catalog();
    await expectCheckClean(`${spec.message}: after migrate`);
    if (spec.reversible === false) {
      const refused = await ws.migrate(['rollback', '-s', '1'], env);
      expect.soft(`exit ${refused.code}: ${refused.stderr.trim()}`, `${spec.message}: rollback of an irreversible migration is refused`).toMatch(/^exit 1/);
      // A rollback that ran anyway un-records the migration: record it again so the series goes on.
      if (refused.code === 0) await cli('migrate', '--fake');
      expect.soft(catalogDifference(await catalog(), after), `${spec.message}: the refused rollback changed nothing`).toEqual({ missing: [], unexpected: [] });
    } else if (created.length > 0) {
      await cli('rollback', '-s', String(created.length));
      expect.soft(catalogDifference(await catalog(), before), `${spec.message}: after rollback, the schema before the change`).toEqual({ missing: [], unexpected: [] });
      await cli('migrate', ...(spec.destructive ? await destructiveFlags() : []));
      expect.soft(catalogDifference(await catalog(), after), `${spec.message}: migrate again after the rollback`).toEqual({ missing: [], unexpected: [] });
    }
    return { created, source: (file) => ws.read(`migrations/${file}`) };
  };

  /** Puts models and stream back as they were and reverts whatever of the change was applied. */
  const undo = async (saved: SavedState, created: string[]) => {
    const status = JSON.parse((await ws.migrate(['showmigrations', '--json'], env)).stdout || '{"migrations":[]}');
    const applied = created.filter((file) => status.migrations.some((m: { name: string; applied: boolean }) => m.applied && `${m.name}.ts` === file));
    if (applied.length > 0) await ws.migrate(['rollback', '-s', String(applied.length), '--yes'], env);
    saved.restore();
  };

  return { ws, db, cli, catalog, reference, expectMatchesModels, expectCheckClean, expectRebuiltShardsClean, change };
}

export function serviceOf(file: string): string {
  return file.split('_')[2]!;
}

/** The name of the latest migration (without `.ts`) of a service. */
export function latestOf(ws: Workspace, service: string): string {
  const files = ws.migrations().filter((file) => serviceOf(file) === service);
  return files[files.length - 1]!.slice(0, -3);
}

interface SavedState {
  restore(): void;
  discard(): void;
}

/** A copy of apps/ and migrations/ to go back to. */
function saveState(ws: Workspace): SavedState {
  const copy = mkdtempSync(join(tmpdir(), 'tributary-conformance-state-'));
  for (const folder of ['apps', 'migrations']) cpSync(ws.path(folder), join(copy, folder), { recursive: true });
  const discard = () => rmSync(copy, { recursive: true, force: true });
  return {
    restore() {
      for (const folder of ['apps', 'migrations']) {
        for (const entry of readdirSync(ws.path(folder))) rmSync(ws.path(folder, entry), { recursive: true, force: true });
        if (existsSync(join(copy, folder))) cpSync(join(copy, folder), ws.path(folder), { recursive: true });
      }
      discard();
    },
    discard,
  };
}
