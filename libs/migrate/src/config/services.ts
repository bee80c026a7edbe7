/**
 * Discovers the workspace's services: every project folder (project.json or package.json)
 * that has a `src/db/models/` or `db/models/` folder. Adding a service needs no registration.
 */
import { existsSync, globSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { TributaryConfig } from './config.ts';
import { TributaryError } from '../errors.ts';

export interface Service {
  /** The Nx project name, which is also the service name in migration file names. */
  name: string;
  /** Absolute path of the project folder. */
  dir: string;
  /** Absolute path of the models folder. */
  modelsDir: string;
}

export const SERVICE_NAME = /^[a-z0-9][a-z0-9-]*$/;
const MODEL_FOLDERS = ['src/db/models', 'db/models'];

export function projectName(dir: string): string | undefined {
  const projectJson = join(dir, 'project.json');
  if (existsSync(projectJson)) {
    const name = readJson(projectJson).name;
    if (typeof name === 'string') return name;
  }
  const packageJson = join(dir, 'package.json');
  if (existsSync(packageJson)) {
    const pkg = readJson(packageJson);
    if (typeof pkg.nx?.name === 'string') return pkg.nx.name;
    if (typeof pkg.name === 'string') return pkg.name.replace(/^@[^/]+\//, '');
  }
  return existsSync(projectJson) ? basename(dir) : undefined;
}

export function findModelsDir(dir: string): string | undefined {
  for (const folder of MODEL_FOLDERS) {
    const candidate = join(dir, folder);
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
  }
  return undefined;
}

/** A `folder/*` pattern (the usual kind) is one directory listing; other patterns go to the glob matcher, loaded only for them. */
const ONE_LEVEL = /^[^*?[\]{}!]+\/\*$/;

/** The folders `config.projects` matches, relative to the root: what `globSync` gives, without loading it for `folder/*`. */
function projectFolders(config: TributaryConfig): string[] {
  const folders = new Set<string>();
  for (const pattern of config.projects) {
    if (!ONE_LEVEL.test(pattern)) {
      for (const rel of globSync(pattern, { cwd: config.root })) folders.add(rel);
      continue;
    }
    const parent = pattern.slice(0, -2);
    if (!existsSync(join(config.root, parent))) continue;
    for (const name of readdirSync(join(config.root, parent))) if (!name.startsWith('.')) folders.add(join(parent, name));
  }
  return [...folders];
}

export function discoverServices(config: TributaryConfig): Service[] {
  const services: Service[] = [];
  const byName = new Map<string, Service>();
  for (const rel of projectFolders(config)) {
    const dir = join(config.root, rel);
    if (!statSync(dir).isDirectory()) continue;
    const modelsDir = findModelsDir(dir);
    const name = modelsDir && projectName(dir);
    if (!modelsDir || !name) continue;
    if (!SERVICE_NAME.test(name)) {
      throw new TributaryError(`Service "${name}" (${relative(config.root, dir)}) needs a lower-case name of letters, digits and dashes to appear in migration file names.`);
    }
    const other = byName.get(name);
    if (other) {
      throw new TributaryError(`Two projects are named "${name}": ${relative(config.root, other.dir)} and ${relative(config.root, dir)}.`);
    }
    const service = { name, dir, modelsDir };
    byName.set(name, service);
    services.push(service);
  }
  // Names are [a-z0-9-] (checked above), where code-unit order is localeCompare's: without
  // its ~13 ms of collator set-up in every process (Nx's, its batch worker, the CLI).
  return services.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function selectServices(all: Service[], names: string[] | undefined): Service[] {
  if (!names || names.length === 0) return all;
  return names.map((name) => {
    const service = all.find((s) => s.name === name);
    if (!service) {
      const known = all.map((s) => s.name).join(', ') || 'none';
      throw new TributaryError(`Unknown service "${name}" (services in this workspace: ${known}).`);
    }
    return service;
  });
}

function readJson(file: string): any {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TributaryError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}
