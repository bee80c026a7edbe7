/**
 * Scratch copies of this workspace for end-to-end tests: the services, the stream and the
 * root files are copied; node_modules is a folder of links to the real one, except the
 * workspace's own packages, which point into the copy so that edits there are what loads.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
const COPIED = ['.env', 'apps', 'migrations', 'nx.json', 'package.json', 'tsconfig.base.json', 'tsconfig.json'];

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Workspace {
  dir: string;
  path(...parts: string[]): string;
  read(file: string): string;
  write(file: string, content: string): void;
  edit(file: string, from: string | RegExp, to: string): void;
  remove(file: string): void;
  /** The content of a service's current snapshot shard (its one non-empty file in `migrations/.snapshots/<service>/`). */
  shard(service: string): string;
  /** Runs the real `migrate` CLI in the workspace. */
  migrate(args: string[], env?: Record<string, string | undefined>): Promise<RunResult>;
  /** The same; throws with its output unless it exits 0. */
  migrateOk(args: string[], env?: Record<string, string | undefined>): Promise<RunResult>;
  run(command: string, args: string[], env?: Record<string, string | undefined>): Promise<RunResult>;
  /** Runs the real `nx` in the workspace: no daemon, no cloud, no TUI. */
  nx(args: string[], env?: Record<string, string | undefined>): Promise<RunResult>;
  migrations(): string[];
  dispose(): void;
}

export interface ScratchOptions {
  /** Keep the repository's committed stream (default), or start with none. */
  withStream?: boolean;
  /** Which services to copy (default: all of apps/). */
  apps?: string[];
  /** Also copy libs/migrate, and link @tributary/migrate to the copy (to edit the tool itself). */
  withLibrary?: boolean;
}

export function scratchWorkspace(options: ScratchOptions = {}): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-ws-'));
  for (const item of COPIED) {
    if (item === 'apps' && options.apps) {
      for (const app of options.apps) cpSync(join(REPO, 'apps', app), join(dir, 'apps', app), { recursive: true });
      continue;
    }
    if (item === 'migrations' && options.withStream === false) {
      mkdirSync(join(dir, 'migrations'));
      continue;
    }
    cpSync(join(REPO, item), join(dir, item), { recursive: true, filter: (src) => !src.includes('/.data') && !src.includes('/node_modules') });
  }
  if (options.withLibrary) {
    cpSync(join(REPO, 'libs/migrate'), join(dir, 'libs/migrate'), { recursive: true, filter: (src) => !src.includes('/node_modules') });
  }
  linkNodeModules(dir, options.withLibrary ? join(dir, 'libs/migrate') : join(REPO, 'libs/migrate'));

  const run = (command: string, args: string[], env: Record<string, string | undefined> = {}) => exec(command, args, { cwd: dir, env: cleanEnv(env) });
  return {
    dir,
    path: (...parts) => join(dir, ...parts),
    read: (file) => readFileSync(join(dir, file), 'utf8'),
    write: (file, content) => {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      writeFileSync(join(dir, file), content);
    },
    edit(file, from, to) {
      const before = this.read(file);
      const after = before.replace(from, to);
      if (after === before) throw new Error(`edit of ${file} changed nothing (${from})`);
      this.write(file, after);
    },
    remove: (file) => rmSync(join(dir, file), { force: true, recursive: true }),
    shard(service) {
      const folder = join(dir, 'migrations/.snapshots', service);
      const files = readdirSync(folder).filter((f) => f.endsWith('.json') && statSync(join(folder, f)).size > 0);
      if (files.length !== 1) throw new Error(`${service} has ${files.length} shard files: ${files.join(', ')}`);
      return readFileSync(join(folder, files[0]!), 'utf8');
    },
    migrate: (args, env) => run(process.execPath, [join(dir, 'node_modules/.bin/migrate'), ...args], env),
    async migrateOk(args, env) {
      const result = await this.migrate(args, env);
      if (result.code !== 0) throw new Error(`migrate ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`.trim());
      return result;
    },
    run,
    nx: (args, env = {}) => run(process.execPath, [nxBin(dir), ...args], { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_SKIP_NX_CACHE: undefined, NX_CACHE_FAILURES: undefined, ...env }),
    migrations: () => readdirSync(join(dir, 'migrations')).filter((f) => f.endsWith('.ts')).sort(),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The workspace's own `nx` command (its package.json names the file). */
function nxBin(dir: string): string {
  const pkg = JSON.parse(readFileSync(join(dir, 'node_modules/nx/package.json'), 'utf8'));
  return join(dir, 'node_modules/nx', pkg.bin.nx);
}

function linkNodeModules(dir: string, library: string): void {
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@tributary'), { recursive: true });
  for (const entry of readdirSync(join(REPO, 'node_modules'))) {
    // Not `.cache`: what one test's run remembers there (a clean check of the same files, say)
    // would answer another test's run; every scratch workspace remembers on its own.
    if (entry === '@tributary' || entry === '.package-lock.json' || entry === '.cache') continue;
    symlinkSync(join(REPO, 'node_modules', entry), join(modules, entry));
  }
  symlinkSync(library, join(modules, '@tributary/migrate'));
  for (const app of readdirSync(join(dir, 'apps'))) {
    const pkg = join(dir, 'apps', app, 'package.json');
    if (!existsSync(pkg)) continue;
    const name = JSON.parse(readFileSync(pkg, 'utf8')).name as string;
    if (name.startsWith('@tributary/')) symlinkSync(join(dir, 'apps', app), join(modules, name));
  }
}

/** The test runner's environment minus what would point the CLI elsewhere. */
export function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' };
  delete env.DATABASE_URL;
  delete env.MIGRATION_DATABASE_URL;
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'NODE_OPTIONS') delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function exec(command: string, args: string[], options: ExecFileOptions): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    execFile(command, args, { ...options, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as any).code === 'number' ? (error as any).code : 1) : 0;
      resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
