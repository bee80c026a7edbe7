/**
 * Finds the workspace files a service's models import, directly or through other files (a
 * shared entity base, another service's entities), so that the cache of `migrate-check`
 * notices a change in any of them. Static string imports only; packages in node_modules are
 * left to the lockfile.
 */
import { existsSync, lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { typeScriptCandidates } from './typescript-hooks.ts';

// `import x from '…'`, `export … from '…'`, `import '…'`, `import('…')`
const SPECIFIERS = /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"\n]+)['"]|\bimport\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g;
const SOURCE_EXTENSIONS = ['', '.ts', '.mts', '.js', '.mjs', '/index.ts', '/index.js'];

/** The operating system's realpath(3): one call per path, where Node's JavaScript one looks at every folder of it. */
export const realPath = (path: string): string => realpathSync.native(path);

/**
 * What one walk over many files remembers: how bare specifiers resolved from a folder (every
 * entity file of a folder imports the same packages, and resolving one walks node_modules), and
 * each folder's real path (realpath(3) looks at every folder of a path; a file that is not a link
 * is its real folder's entry, told by one lstat). Made per walk: nothing is remembered across them.
 */
export interface ImportWalk {
  packages: Map<string, string | undefined>;
  realPath: (path: string) => string;
}

export function importWalk(): ImportWalk {
  const folders = new Map<string, string>();
  return {
    packages: new Map(),
    realPath: (given) => {
      const path = resolve(given); // without a trailing separator, through which lstat would follow a link
      const folder = dirname(path);
      if (folder === path || lstatSync(path).isSymbolicLink()) return realPath(path);
      let real = folders.get(folder);
      if (real === undefined) folders.set(folder, (real = realPath(folder)));
      return join(real, basename(path));
    },
  };
}

export function importSpecifiers(source: string): string[] {
  return [...source.matchAll(SPECIFIERS)].map((match) => (match[1] ?? match[2])!);
}

/** The file an import of `specifier` from `from` loads, when it is a file of the workspace (its real path). */
export function resolveWorkspaceImport(specifier: string, from: string, workspaceRoot: string, walk: ImportWalk = importWalk()): string | undefined {
  let resolved: string | undefined;
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const base = resolve(dirname(from), specifier);
    // Then as the model loader finds it: `./util.js` written for a bundler loads util.ts.
    const candidates = [...SOURCE_EXTENSIONS.map((ext) => base + ext), ...typeScriptCandidates(specifier).map((candidate) => resolve(dirname(from), candidate))];
    resolved = candidates.find((candidate) => statSync(candidate, { throwIfNoEntry: false })?.isFile());
  } else if (!specifier.startsWith('node:')) {
    const key = `${dirname(from)}\0${specifier}`;
    if (walk.packages.has(key)) return walk.packages.get(key);
    resolved = resolvePackage(specifier, from, workspaceRoot, walk);
    walk.packages.set(key, resolved);
    return resolved;
  }
  return insideWorkspace(resolved, workspaceRoot, walk);
}

function resolvePackage(specifier: string, from: string, workspaceRoot: string, walk: ImportWalk): string | undefined {
  if (installedElsewhere(specifier, dirname(from), workspaceRoot)) return undefined;
  try {
    return insideWorkspace(createRequire(from).resolve(specifier), workspaceRoot, walk);
  } catch {
    return undefined; // a package only `import` can resolve, or not installed: not ours to track
  }
}

/**
 * Whether a bare specifier names a package that Node takes from outside the workspace (or from
 * inside a node_modules folder), where no file is the workspace's: the first
 * `node_modules/<package>` above `dir` is such a folder, and the package around `dir` is not the
 * one named (Node resolves a package's own name to itself first). Then the resolution itself —
 * ~0.3 ms per models folder, a require's lookup, for every service in the Nx plugin and the
 * check — is not needed. (A package without `exports` that lacks the subpath there and has it
 * in a node_modules folder further up, linked into the workspace, is left out: nothing does that.)
 */
function installedElsewhere(specifier: string, dir: string, workspaceRoot: string): boolean {
  const name = specifier.match(/^(?:@[^/]+\/)?[^/@#][^/]*/)?.[0];
  if (!name || ownPackageName(dir) === name) return false;
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (basename(at) !== 'node_modules' && existsSync(candidate)) {
      const inside = relative(workspaceRoot, realPath(candidate));
      return inside.startsWith('..') || inside.split(sep).includes('node_modules');
    }
    if (dirname(at) === at) return false;
  }
}

/** The name in the nearest package.json above `dir`, as Node reads it for a package's imports of itself. */
function ownPackageName(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const file = join(at, 'package.json');
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, 'utf8')).name;
      } catch {
        return undefined;
      }
    }
    if (dirname(at) === at) return undefined;
  }
}

function insideWorkspace(resolved: string | undefined, workspaceRoot: string, walk: ImportWalk): string | undefined {
  if (!resolved || !existsSync(resolved)) return undefined;
  const real = walk.realPath(resolved);
  const inside = relative(workspaceRoot, real);
  if (inside.startsWith('..') || inside.split(sep).includes('node_modules')) return undefined;
  return real;
}

/** Every workspace file reachable by imports from `files` (real paths): `files` first, then nearest first. */
export function reachableWorkspaceFiles(files: string[], workspaceRoot: string, walk: ImportWalk = importWalk()): string[] {
  const root = realPath(workspaceRoot);
  const seen = new Set(files.map(walk.realPath));
  const order = [...seen];
  for (let index = 0; index < order.length; index++) {
    const file = order[index]!;
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const specifier of importSpecifiers(source)) {
      const target = resolveWorkspaceImport(specifier, file, root, walk);
      if (!target || seen.has(target)) continue;
      seen.add(target);
      order.push(target);
    }
  }
  return order;
}

/**
 * Every workspace file reachable by imports from `files`, outside the folder `own` (whose
 * files the caller already covers with a glob), as paths relative to the workspace root.
 */
export function importedWorkspaceFiles(files: string[], own: string, workspaceRoot: string): string[] {
  const root = realPath(workspaceRoot);
  const ownReal = realPath(own);
  const walk = importWalk();
  const start = new Set(files.map(walk.realPath));
  return reachableWorkspaceFiles(files, root, walk)
    .filter((file) => !start.has(file) && !(file + sep).startsWith(ownReal + sep))
    .map((file) => relative(root, file).split(sep).join('/'))
    .sort();
}
