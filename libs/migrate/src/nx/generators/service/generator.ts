/**
 * `nx g @tributary/migrate:service <name>`: a new service project with a models folder and an
 * example entity — the plugin then gives it every Tributary target — wired into the unified
 * app's registry when that file invites it (see registry.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, matchesGlob, posix } from 'node:path';
import type { Tree } from '@nx/devkit';
import { CONFIG_FILE, loadConfig } from '../../../config/config.ts';
import { SERVICE_NAME, discoverServices } from '../../../config/services.ts';
import { TributaryError } from '../../../errors.ts';
import { addToRegistry } from './registry.ts';
import { entityFile, modelsIndex, packageJson, routesFile, type ServiceNames } from './templates.ts';

export interface ServiceGeneratorOptions {
  name: string;
  directory?: string;
  registry?: string;
  prefix?: string;
}

const pascal = (words: string[]) => words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
const camel = (words: string[]) => words[0] + pascal(words.slice(1));

/** `orders` → `order`, `categories` → `category`: good enough for an example entity's name. */
function singular(word: string): string {
  if (/ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (/[^s]s$/.test(word)) return word.slice(0, -1);
  return word;
}

/** The npm scope the workspace's services use (`@tributary/auth-service` → `@tributary`), if any. */
function packageScope(root: string, servicePackages: string[]): string | undefined {
  const scoped = servicePackages.find((name) => name.startsWith('@'));
  if (scoped) return scoped.split('/')[0];
  const rootPackage = join(root, 'package.json');
  const rootName = existsSync(rootPackage) ? String(JSON.parse(readFileSync(rootPackage, 'utf8')).name ?? '') : '';
  return rootName.startsWith('@') ? rootName.split('/')[0] : undefined;
}

function readName(packageJsonFile: string): string[] {
  if (!existsSync(packageJsonFile)) return [];
  const name = JSON.parse(readFileSync(packageJsonFile, 'utf8')).name;
  return typeof name === 'string' ? [name] : [];
}

export function serviceNames(name: string, scope: string | undefined, prefix?: string): ServiceNames {
  const base = name.replace(/-service$/, '');
  const words = base.split('-').filter(Boolean);
  words.push(singular(words.pop()!));
  return {
    name,
    packageName: scope ? `${scope}/${name}` : name,
    entity: pascal(words),
    table: words.join('_'),
    entityFile: words.join('-'),
    prefix: prefix ?? `/${base}`,
  };
}

export default async function serviceGenerator(tree: Tree, options: ServiceGeneratorOptions): Promise<() => void> {
  const name = options.name?.trim() ?? '';
  if (!SERVICE_NAME.test(name)) {
    throw new TributaryError(`Service name "${name}" must be lower-case letters, digits and dashes, starting with a letter or digit (it appears in migration file names).`);
  }
  const directory = posix.join(options.directory ?? 'apps', name);
  if (tree.exists(directory)) throw new TributaryError(`${directory} already exists: choose another service name or --directory.`);
  const config = loadConfig({ cwd: tree.root });
  const existing = discoverServices(config);
  if (existing.some((service) => service.name === name)) throw new TributaryError(`A service named ${name} already exists in this workspace.`);
  if (!config.projects.some((pattern) => matchesGlob(directory, pattern))) {
    throw new TributaryError(`${directory} is outside the folders Tributary searches for services (${config.projects.join(', ')}): pick another --directory or add it to "projects" in ${CONFIG_FILE}.`);
  }

  const names = serviceNames(name, packageScope(tree.root, existing.flatMap((s) => readName(join(s.dir, 'package.json')))), options.prefix);
  const registry = options.registry ?? 'apps/gateway/src/services.ts';
  const wiring = tree.exists(registry)
    ? addToRegistry(tree.read(registry, 'utf-8')!, { identifier: camel(name.split('-')), packageName: names.packageName })
    : ({ wired: false, reason: 'it does not exist' } as const);

  tree.write(`${directory}/package.json`, packageJson(names, wiring.wired));
  tree.write(`${directory}/src/db/models/${names.entityFile}.ts`, entityFile(names));
  tree.write(`${directory}/src/db/models/index.ts`, modelsIndex(names));
  if (wiring.wired) {
    tree.write(`${directory}/src/routes.ts`, routesFile(names));
    tree.write(registry, wiring.source);
  }

  return () => {
    const steps = [
      `Service ${name} created in ${directory} with the example entity ${names.entity} (table "${names.table}").`,
      wiring.wired
        ? `Mounted in the unified app under ${names.prefix} (${registry}); run \`npm install\` so that ${names.packageName} is linked into node_modules.`
        : `Not wired into a unified app: ${registry} ${wiring.reason}.`,
      `Next: edit ${directory}/src/db/models/${names.entityFile}.ts, then \`nx run ${name}:makemigrations -m "create ${names.table}"\` and \`nx run ${name}:migrate\`.`,
    ];
    process.stdout.write(`${steps.join('\n')}\n`);
  };
}
