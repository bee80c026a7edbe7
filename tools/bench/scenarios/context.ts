/** What every scenario gets: the sizes to run at, how often to repeat, and how to run the CLI. */
import { join } from 'node:path';
import type { Command } from '../measure.ts';
import type { Shape } from '../workspace.ts';

export interface Size {
  label: '1×' | '4×';
  factor: number;
  /** Pairs per comparison and repeats per absolute figure at this size. */
  pairs: number;
  repeats: number;
  /** One untimed run of each command first (quick runs skip it). */
  warmUp: boolean;
}

export interface Plan {
  mode: 'quick' | 'full';
  /** The 1× workspace; 4× multiplies the services. */
  shape: Shape;
  /** Services changed by the incremental makemigrations step (at 1×). */
  changedServices: number;
  /** One-statement migrations, statements of the big migration, migrations in the status stream, applied migrations for the boot check (all at 1×). */
  migrations: number;
  statements: number;
  stream: number;
  boot: number;
  nxServices: number;
  /** Fewer entities for Nx: a cold run-many runs every service's check, each loading all models. */
  nxEntitiesPerService: number;
  sizes: Size[];
}

export const MIGRATE_BIN = (workspace: string) => join(workspace, 'node_modules/.bin/migrate');

/**
 * `<ws>/node_modules/.bin/migrate <args>` in the workspace, executed as `npx migrate` executes it:
 * through its shebang, with the Node flags it names (the `node` first on PATH: Node 24 under `npm run`).
 */
export function tributary(label: string, workspace: string, args: string[], extra: Partial<Command> = {}): Command {
  return { label, cmd: MIGRATE_BIN(workspace), args, cwd: workspace, ...extra };
}
