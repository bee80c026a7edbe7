/**
 * `nx g @tributary/migrate:init` (run by `nx add @tributary/migrate`): registers the plugin in
 * nx.json, lets Nx load plugins in its own process (`NX_ISOLATE_PLUGINS=false` in `.env`), so
 * that a cold `nx run-many -t migrate-check` pays for one check, not for four plugin workers, and
 * keeps the embedded database (`.data/`) out of git. Idempotent; never overwrites a setting the
 * workspace already has.
 */
import type { Tree } from '@nx/devkit';
import { PACKAGE } from '../../plugin.ts';

export const PLUGIN = `${PACKAGE}/plugin`;
export const ENV_FILE = '.env';
export const GITIGNORE = '.gitignore';
/** Where the embedded PGlite database and backups live (config `pgliteDir`, `.data/backups/`). */
const DATA_DIR = '.data/';
const ISOLATE = 'NX_ISOLATE_PLUGINS';

export interface InitGeneratorOptions {
  /** Keep Nx's default of one worker process per plugin (slower cold runs, nothing written to .env). */
  keepPluginIsolation?: boolean;
}

/** What init changed or left, one sentence each. */
export type InitSteps = string[];

/** Adds the plugin to nx.json's `plugins` unless it is there (as a string or `{ plugin }`). */
export function registerPlugin(tree: Tree): string {
  if (!tree.exists('nx.json')) return 'No nx.json here: run `npx nx init` first, then this generator again.';
  const nxJson = JSON.parse(tree.read('nx.json', 'utf-8')!);
  const plugins: Array<string | { plugin: string }> = nxJson.plugins ?? [];
  if (plugins.some((entry) => (typeof entry === 'string' ? entry : entry.plugin) === PLUGIN)) return `nx.json already registers ${PLUGIN}.`;
  nxJson.plugins = [...plugins, PLUGIN];
  tree.write('nx.json', `${JSON.stringify(nxJson, null, 2)}\n`);
  return `Registered ${PLUGIN} in nx.json: every project with src/db/models/ gets the Tributary targets.`;
}

/**
 * Nx reads `.env` before it loads plugins; with isolation off, its built-in plugins and this one
 * run in the Nx process instead of four worker processes (measured: a cold run-many over 50
 * services costs about a third less). A value the workspace already sets is left alone.
 */
export function loadPluginsInProcess(tree: Tree): string {
  const current = tree.exists(ENV_FILE) ? tree.read(ENV_FILE, 'utf-8')! : '';
  const line = current.split('\n').find((l) => new RegExp(`^\\s*(export\\s+)?${ISOLATE}\\s*=`).test(l));
  if (line) return `${ENV_FILE} already sets ${line.trim()}: left as it is.`;
  const block = `# Nx loads its plugins (and Tributary's) in its own process instead of one worker each:\n# cold runs (CI) start faster. Remove to go back to Nx's default.\n${ISOLATE}=false\n`;
  tree.write(ENV_FILE, current === '' ? block : `${current.replace(/\n*$/, '\n\n')}${block}`);
  return `Wrote ${ISOLATE}=false to ${ENV_FILE} (Nx runs plugins in its own process: a cold nx run-many -t migrate-check starts faster); commit ${ENV_FILE} so that CI reads it too, or, if your team keeps ${ENV_FILE} out of git (secrets), set ${ISOLATE}=false in CI's environment instead.`;
}

/** The embedded database is a developer's local data: never committed. A `.gitignore` that ignores it already is left alone. */
export function ignoreEmbeddedData(tree: Tree): string {
  const current = tree.exists(GITIGNORE) ? tree.read(GITIGNORE, 'utf-8')! : '';
  if (current.split('\n').some((line) => /^\/?\.data\/?\s*$/.test(line.trim()))) return `${GITIGNORE} already ignores ${DATA_DIR}.`;
  const block = `# Tributary's embedded database and backups (local data, never committed)\n${DATA_DIR}\n`;
  tree.write(GITIGNORE, current === '' ? block : `${current.replace(/\n*$/, '\n\n')}${block}`);
  return `Added ${DATA_DIR} to ${GITIGNORE}: the embedded database (.data/pglite/) and backups stay out of git.`;
}

export default async function initGenerator(tree: Tree, options: InitGeneratorOptions = {}): Promise<() => void> {
  const steps: InitSteps = [registerPlugin(tree)];
  steps.push(options.keepPluginIsolation ? `Nx keeps one worker process per plugin (--keepPluginIsolation): nothing written to ${ENV_FILE}.` : loadPluginsInProcess(tree));
  steps.push(ignoreEmbeddedData(tree));
  steps.push('Next: put a service\'s entities in <project>/src/db/models/ (or `nx g @tributary/migrate:service <name>`), then `nx run <service>:makemigrations -m "initial"`.');
  return () => process.stdout.write(`${steps.join('\n')}\n`);
}
