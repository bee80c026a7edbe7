/**
 * The Nx plugin (`@tributary/migrate/plugin` in nx.json): every service — a project with a
 * `src/db/models/` or `db/models/` folder, exactly as the engine discovers them — gets the
 * Tributary targets, and the stream folder becomes the `migrations` project with the global
 * ones; a service whose models import another service's models depends on that service in the
 * project graph. No per-project configuration. Loaded by Nx through Node's type stripping: keep
 * it light (no ORM) and erasable.
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire, getCompileCacheDir } from 'node:module';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { CreateDependencies, CreateNodesContext, DependencyType, CreateNodesResult, CreateNodesV2, PreTasksExecutionContext, RawProjectGraphDependency } from '@nx/devkit';
import { loadConfig, type TributaryConfig } from '../config/config.ts';
import { discoverServices, type Service } from '../config/services.ts';
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

/** A service and what its models reach: workspace files outside its models folder, and the services owning some of them. */
interface ServiceReach {
  service: Service;
  /** Project root relative to the workspace root ('' at the root). */
  root: string;
  /** Relative to the workspace root, sorted. */
  importedFiles: string[];
  /** Other services whose model files the models import, directly or not (their tables are referenced). */
  references: Service[];
}

const rootKey = (root: string) => (root === '.' ? '' : posix(root));

/** Every service with what its models import: one walk of each service's imports, no ORM. */
function serviceReach(config: TributaryConfig): ServiceReach[] {
  const root = config.root;
  const services = discoverServices(config);
  const modelsDirs = services.map((service) => ({ service, prefix: `${posix(relative(realpathSync(root), realpathSync(service.modelsDir)))}/` }));
  return services.map((service) => {
    const importedFiles = importedWorkspaceFiles(modelFiles(service), service.modelsDir, root);
    const owners = new Set(importedFiles.map((file) => modelsDirs.find((dir) => file.startsWith(dir.prefix))?.service));
    const references = services.filter((other) => other !== service && owners.has(other));
    return { service, root: posix(relative(root, service.dir)), importedFiles, references };
  });
}

function inferProjects(files: readonly string[], context: CreateNodesContext): Array<readonly [string, CreateNodesResult]> {
  const root = context.workspaceRoot;
  const config = loadConfig({ cwd: root });
  const services = new Map(serviceReach(config).map((reach) => [reach.root, reach]));
  const migrationsDir = posix(relative(root, config.migrationsDir));
  const snapshotsDir = posix(relative(root, config.snapshotsDir));
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
    const reach = services.get(rootKey(projectRoot));
    // One entry per project: project.json wins over package.json in the same folder.
    if (!reach || (basename(file) === 'package.json' && fileSet.has(join(dirname(file), 'project.json')))) continue;
    const { service, importedFiles, references } = reach;
    const targets = serviceTargets({
      modelsDir: posix(relative(service.dir, service.modelsDir)),
      importedFiles,
      migrationsDir,
      snapshotsDir,
      streamServices: [service.name, ...references.map((other) => other.name)],
      tool,
    });
    const tributary: ServiceMetadata = { service: service.name, referencedRoots: references.map((other) => posix(relative(root, other.dir))) };
    // No dependency on the `migrations` project: the check reads only its own part of the
    // stream (and its referenced services'), as its inputs say; stream-wide checks are migrations:check.
    results.push([file, { projects: { [projectRoot]: { targets, metadata: { tributary } } } }]);
  }
  return results;
}

export const createNodesV2: CreateNodesV2<TributaryPluginOptions> = [PROJECT_FILES, (files, _options, context) => inferProjects(files, context)];
/** Nx 24 reads `createNodes` first and falls back to `createNodesV2`; both name the same pair. */
export const createNodes = createNodesV2;

/** What createNodes leaves on a service project for createDependencies (which then reads no file). */
interface ServiceMetadata {
  service: string;
  /** Project roots of the services whose models this service's models import. */
  referencedRoots: string[];
}

/**
 * A service depends on the services whose models its models import (billing's invoices
 * reference auth's users), directly or through a shared file: an implicit dependency, from what
 * createNodes found.
 */
export const createDependencies: CreateDependencies<TributaryPluginOptions> = (_options, context) => {
  const projectOf = new Map(Object.entries(context.projects).map(([name, project]) => [rootKey(project.root), name]));
  const dependencies: RawProjectGraphDependency[] = [];
  for (const [source, project] of Object.entries(context.projects)) {
    const metadata: ServiceMetadata | undefined = project.metadata?.tributary;
    for (const root of metadata?.referencedRoots ?? []) {
      const target = projectOf.get(root);
      // Nx's DependencyType is an enum of these strings; the plugin only imports its type.
      if (target && target !== source) dependencies.push({ source, target, type: 'implicit' as DependencyType.implicit });
    }
  }
  return dependencies;
};

/** The compile-cache settings of the environment this process started with (before any run's writes). */
const ENVIRONMENT_AT_LOAD = { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE, NODE_DISABLE_COMPILE_CACHE: process.env.NODE_DISABLE_COMPILE_CACHE };

/**
 * `--db` and `--since` make `migrate-check` read state outside its inputs: never answer those
 * from the cache. And the processes Nx starts for tasks get the compile cache of Nx's own.
 * (Nx 24 takes what a plugin sets in process.env, not what it returns.)
 */
export function preTasksExecution(_options: TributaryPluginOptions | undefined, context: PreTasksExecutionContext): void {
  if (readsOutsideState(context.argv)) process.env.NX_SKIP_NX_CACHE = 'true';
  // Judged on the environment as this process found it: a daemon keeps what an earlier run set,
  // and Nx hands task processes only what this run writes.
  Object.assign(process.env, compileCacheForTasks(ENVIRONMENT_AT_LOAD, getCompileCacheDir?.()));
}

export function readsOutsideState(argv: readonly string[]): boolean {
  return argv.some((arg) => /^--(db|since)(=(?!false$).*)?$/.test(arg));
}

/**
 * Nx 24 loads its CLI, daemon and plugin workers through Node's on-disk compile cache, but not
 * the processes that run executors (a batch worker loads ~300 ms of Nx's modules, then ours,
 * compiled and type-stripped from scratch every run): hand them the folder Nx chose for itself,
 * unless the environment already names one or turns it off (then Nx has none to hand on).
 */
export function compileCacheForTasks(env: NodeJS.ProcessEnv, nxCacheDir: string | undefined): Record<string, string> {
  if (!nxCacheDir || env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return {};
  // Node keeps each version's entries in a subfolder of the folder it is given, and names that.
  const given = basename(nxCacheDir).startsWith(`v${process.versions.node}-`) ? dirname(nxCacheDir) : nxCacheDir;
  return { NODE_COMPILE_CACHE: given };
}
