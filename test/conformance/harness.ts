/**
 * The conformance steps on one scratch workspace and one PostgreSQL database: run the real CLI,
 * compare the database with what MikroORM's SchemaGenerator builds from the same models in a
 * database of its own, check that nothing is left to generate (also from rebuilt shards), and
 * round-trip a change through rollback. A change that fails to generate or apply is undone
 * (models, stream and database) so that the next change starts from a consistent state. A test
 * file is built from these: its set-up, the initial steps, and a series of changes, one test each.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { forwarding } from '../support/fixture.ts';
import { exec, REPO, type RunResult, type Workspace } from '../support/workspace.ts';
import { catalogDifference, catalogLines } from './catalog.ts';
import { conformanceWorkspace } from './workspace.ts';

export interface Conformance {
  ws: Workspace;
  db: TestDatabase;
  /** Runs the CLI; throws with its output unless it exits 0. */
  cli(...args: string[]): Promise<RunResult>;
  /** `makemigrations -m initial`; the files it wrote as `<service>_initial.ts`, in stream order. */
  makeInitial(): Promise<string[]>;
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
  /** Replacements in files of the scratch workspace, in order: file, what (a RegExp's `$&` is the match), by what. */
  edits?: Array<[file: string, from: string | RegExp, to: string]>;
  /** Edits the models of the scratch workspace otherwise (after `edits`). */
  edit?(): void;
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
  const cli = (...args: string[]) => ws.migrateOk(args, env);
  const makeInitial = async () => {
    const before = ws.migrations();
    await cli('makemigrations', '-m', 'initial');
    return ws.migrations().filter((file) => !before.includes(file)).map((file) => file.split('_').slice(2).join('_'));
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
      for (const [file, from, to] of spec.edits ?? []) ws.edit(file, from, to);
      spec.edit?.();
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

  return { ws, db, cli, makeInitial, catalog, reference, expectMatchesModels, expectCheckClean, expectRebuiltShardsClean, change };
}

/**
 * The suite for a test file: a conformance workspace of `services` and its database, made before
 * the file's tests and removed after them (handles that forward, as in support/fixture.ts).
 */
export function conformanceSuite(services?: string[]): { c: Conformance; ws: Workspace } {
  let c: Conformance | undefined;
  beforeAll(async () => {
    c = await startConformance(conformanceWorkspace(services));
  });
  afterAll(async () => {
    await c?.db.drop();
    c?.ws.dispose();
  });
  return { c: forwarding(() => c, 'the conformance suite'), ws: forwarding(() => c?.ws, 'the conformance workspace') };
}

/**
 * Steps 1 and 2 of the README on the initial models, as a file's first tests: one initial
 * migration per service in `services` (in stream order; each other service's depends on
 * identity-service's), migrate builds the SchemaGenerator's schema — whose catalog has
 * `referenceHas`, the shapes the suite exists for, so that no comparison is vacuous — and
 * `makemigrations --check` is clean, also from rebuilt shards.
 */
export function initialSchemaTests({ c, ws }: { c: Conformance; ws: Workspace }, services: string[], referenceHas: string[]): void {
  it(`makemigrations writes one initial migration per service (${services.join(', ')}), depending on identity-service`, async () => {
    expect(await c.makeInitial()).toEqual(services.map((service) => `${service}_initial.ts`));
    const identity = latestOf(ws, 'identity-service');
    for (const service of services.filter((s) => s !== 'identity-service')) expect(ws.read(`migrations/${latestOf(ws, service)}.ts`)).toContain(`'${identity}'`);
  });

  it('migrate builds what the SchemaGenerator builds', async () => {
    await c.cli('migrate');
    expect(await c.expectMatchesModels('initial')).toEqual(expect.arrayContaining(referenceHas));
  });

  it('makemigrations --check is clean after the initial migrations, also with the shards deleted (rebuilt from the stream) and writes no file', async () => {
    await c.expectCheckClean('initial');
    await c.expectRebuiltShardsClean('initial');
  });
}

/** A model change of a series: a test of its own, titled `title`; `then` checks what its migration says beyond the harness's comparisons. */
export interface ChangeStep extends ChangeSpec {
  title: string;
  then?(change: ChangeResult): void;
}

/** One test per step, in order (each step starts from the models and database the one before left). */
export function changeTests(c: Conformance, steps: ChangeStep[]): void {
  for (const step of steps) it(step.title, async () => step.then?.(await c.change(step)));
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
