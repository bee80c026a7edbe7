/**
 * The Nx plugin (`@tributary/migrate/plugin` in nx.json): every service — a project with a
 * `src/db/models/` or `db/models/` folder, exactly as the engine discovers them — gets the
 * Tributary targets, and the stream folder becomes the `migrations` project with the global
 * ones. No per-project configuration. Loaded by Nx through Node's type stripping: keep it
 * light (no ORM) and erasable.
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { CreateNodesContext, CreateNodesResult, CreateNodesV2, PreTasksExecutionContext } from '@nx/devkit';
import { loadConfig } from '../config/config.ts';
import { discoverServices } from '../config/services.ts';
import { modelFiles } from '../models/files.ts';
import { importedWorkspaceFiles } from '../models/imports.ts';
import { STREAM_PROJECT, serviceTargets, streamTargets, type ToolSource } from './targets.ts';

export const PACKAGE = '@tributary/migrate';
/** Project files of possible services, and nx.json, which anchors the `migrations` project. */
export const PROJECT_FILES = '{**/project.json,**/package.json,nx.json}';

// Options are reserved for later (target names); today the plugin needs none.
export type TributaryPluginOptions = Record<string, never>;

const posix = (path: string) => path.split(sep).join('/');

/** Whether the tool's code lives in this workspace (hash its files) or comes from a package (hash its version). */
export function toolSource(workspaceRoot: string): ToolSource {
  const installed = (): ToolSource => ({ kind: 'package', name: PACKAGE, locked: inLockfile(workspaceRoot, PACKAGE) });
  let libraryRoot: string;
  try {
    libraryRoot = realpathSync(dirname(createRequire(join(workspaceRoot, 'package.json')).resolve(`${PACKAGE}/package.json`)));
  } catch {
    return installed();
  }
  const inside = relative(realpathSync(workspaceRoot), libraryRoot);
  if (inside.startsWith('..') || inside.split(sep).includes('node_modules')) return installed();
  return { kind: 'workspace', root: posix(inside) };
}

const LOCKFILES = ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lock'];

function inLockfile(workspaceRoot: string, name: string): boolean {
  return LOCKFILES.some((file) => existsSync(join(workspaceRoot, file)) && readFileSync(join(workspaceRoot, file), 'utf8').includes(name));
}

function containsFile(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { withFileTypes: true }).some((entry) => entry.isFile() || (entry.isDirectory() && containsFile(join(dir, entry.name))));
}

function inferProjects(files: readonly string[], context: CreateNodesContext): Array<readonly [string, CreateNodesResult]> {
  const root = context.workspaceRoot;
  const config = loadConfig({ cwd: root });
  const services = new Map(discoverServices(config).map((service) => [posix(relative(root, service.dir)), service]));
  const migrationsDir = posix(relative(root, config.migrationsDir));
  const tool = toolSource(root);
  // Nx cannot hash a task of a project without files: until the stream folder holds one (the
  // first makemigrations writes it), there is no `migrations` project to depend on.
  const streamExists = containsFile(config.migrationsDir);
  const fileSet = new Set(files);
  const results: Array<readonly [string, CreateNodesResult]> = [];
  for (const file of files) {
    if (file === 'nx.json') {
      if (streamExists) results.push([file, { projects: { [migrationsDir]: { name: STREAM_PROJECT, targets: streamTargets() } } }]);
      continue;
    }
    const projectRoot = posix(dirname(file));
    const service = services.get(projectRoot === '.' ? '' : projectRoot);
    // One entry per project: project.json wins over package.json in the same folder.
    if (!service || (basename(file) === 'package.json' && fileSet.has(join(dirname(file), 'project.json')))) continue;
    const targets = serviceTargets({
      modelsDir: posix(relative(service.dir, service.modelsDir)),
      importedFiles: importedWorkspaceFiles(modelFiles(service), service.modelsDir, root),
      migrationsDir,
      tool,
    });
    // A service's check reads the stream: a change in migrations/ affects every service.
    results.push([file, { projects: { [projectRoot]: { targets, ...(streamExists ? { implicitDependencies: [STREAM_PROJECT] } : {}) } } }]);
  }
  return results;
}

export const createNodesV2: CreateNodesV2<TributaryPluginOptions> = [PROJECT_FILES, (files, _options, context) => inferProjects(files, context)];
/** Nx 24 reads `createNodes` first and falls back to `createNodesV2`; both name the same pair. */
export const createNodes = createNodesV2;

/** `--db` and `--since` make `migrate-check` read state outside its inputs: never answer those from the cache. */
export function preTasksExecution(_options: TributaryPluginOptions | undefined, context: PreTasksExecutionContext): void {
  if (readsOutsideState(context.argv)) process.env.NX_SKIP_NX_CACHE = 'true';
}

export function readsOutsideState(argv: readonly string[]): boolean {
  return argv.some((arg) => /^--(db|since)(=(?!false$).*)?$/.test(arg));
}
