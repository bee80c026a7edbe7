/**
 * Remembers the last clean `makemigrations --check` of a workspace, so that a check over
 * inputs that have not changed since is known clean without loading a single model. The key
 * is a fingerprint of everything the answer depends on: every service's model files and the
 * workspace files they import, the shards, the stream's names and checksums, the selected services, and
 * the versions of Tributary and MikroORM. Kept in node_modules/.cache (never committed).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type { TributaryConfig } from '../config/config.ts';
import type { Service } from '../config/services.ts';
import { filesUnder, modelFiles } from '../models/files.ts';
import { reachableWorkspaceFiles } from '../models/imports.ts';
import type { StreamEntry } from '../stream/stream.ts';
import { cacheFile, saveCache } from '../stream/checksum-memo.ts';

/** The remembered clean `makemigrations --check` (node_modules/.cache/tributary/clean-check.json). */
const CLEAN_CHECK = 'clean-check';

const TOOL_ROOT = join(import.meta.dirname, '..', '..');

/** The fingerprint of a check's inputs; undefined where there is nowhere to remember it. */
export function checkFingerprint(config: TributaryConfig, services: Service[], stream: StreamEntry[], selected: string[] | undefined): string | undefined {
  if (!cacheFile(config.root, CLEAN_CHECK)) return undefined;
  const hash = createHash('sha256');
  const add = (label: string, content: string | Buffer) => hash.update(`${label}\0`).update(content).update('\0');
  const models = services.flatMap((service) => modelFiles(service));
  for (const file of reachableWorkspaceFiles(models, config.root).sort()) add(relative(config.root, file), readFileSync(file));
  for (const file of filesUnder(config.snapshotsDir, /\.json$/).sort()) add(`shard ${file}`, readFileSync(join(config.snapshotsDir, file)));
  add('stream', stream.map((e) => `${e.name} ${e.checksum}`).join('\n')); // an edited migration changes its shard
  add('services', `${services.map((s) => `${s.name}=${relative(config.root, s.modelsDir)}`).join(',')} selected=${(selected ?? []).join(',')}`);
  add('versions', toolVersions(config.root));
  for (const file of ['package-lock.json', 'tributary.config.json']) {
    if (existsSync(join(config.root, file))) add(file, readFileSync(join(config.root, file)));
  }
  return hash.digest('hex');
}

/** Whether a clean check of this kind is remembered at all (else its fingerprint need not be waited for). */
export function hasRemembered(config: TributaryConfig, name?: string): boolean {
  const file = cacheFile(config.root, name ?? CLEAN_CHECK);
  return Boolean(file && existsSync(file));
}

/** `name`: the cache file (one per kind of check: `clean-check`, `clean-drift`). */
export function isKnownClean(config: TributaryConfig, fingerprint: string, name?: string): boolean {
  const file = cacheFile(config.root, name ?? CLEAN_CHECK);
  try {
    return Boolean(file && JSON.parse(readFileSync(file, 'utf8')).fingerprint === fingerprint);
  } catch {
    return false;
  }
}

export function rememberClean(config: TributaryConfig, fingerprint: string, name?: string): void {
  const file = cacheFile(config.root, name ?? CLEAN_CHECK);
  if (file) saveCache(file, { fingerprint }); // a read-only node_modules only means the next check does the full work
}

/** Tributary's own source and MikroORM's version: a remembered answer of an older tool is not trusted. */
export function toolVersions(root: string): string {
  return `${toolVersion()} mikro-orm=${mikroOrmVersion(root)}`;
}

function toolVersion(): string {
  const hash = createHash('sha256');
  for (const file of filesUnder(join(TOOL_ROOT, 'src'), /\.[jt]s$/, 'src/').sort()) {
    if (!/\.test\.[jt]s$/.test(file)) hash.update(file).update(readFileSync(join(TOOL_ROOT, file)));
  }
  return hash.digest('hex');
}

function mikroOrmVersion(root: string): string {
  try {
    return JSON.parse(readFileSync(createRequire(join(root, 'package.json')).resolve('@mikro-orm/core/package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}
