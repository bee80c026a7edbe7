/**
 * Turns `--targets FILE|GROUP` into the list of target database URLs: a file with one PostgreSQL
 * URL per line (`#` comments, blank lines), or a group of `tributary.config.json` — `{ "file" }`,
 * `{ "urls": [...] }`, or `{ "query", "url" }` asked of a control database at run time. Every
 * URL is checked before anything runs, and named (masked) when it is wrong.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import pg from 'pg';
import { CONFIG_FILE, type TributaryConfig } from '../config/config.ts';
import { maskUrl, parsePostgresUrl, redactSecrets } from '../db/urls.ts';
import { TributaryError, describeError } from '../errors.ts';

/** Where a list came from, for messages: `targets.txt`, `group tenants of tributary.config.json`. */
export interface TargetList {
  source: string;
  urls: string[];
}

/** Reads `spec`: an existing file (relative to `cwd`) wins over a group of the same name. */
export async function resolveTargets(spec: string, config: TributaryConfig, cwd = process.cwd()): Promise<TargetList> {
  const file = resolve(cwd, spec);
  if (existsSync(file) && statSync(file).isFile()) return checkedTargets(relative(cwd, file) || file, parseTargetFile(readFileSync(file, 'utf8')));
  const group = config.targets[spec];
  if (group === undefined) {
    const groups = Object.keys(config.targets);
    const known = groups.length ? `the groups of ${CONFIG_FILE} are ${groups.join(', ')}` : `${CONFIG_FILE} defines no "targets" groups`;
    throw new TributaryError(`--targets ${spec} is neither a file nor a group: no file ${relative(cwd, file) || file}, and ${known}.`);
  }
  return checkedTargets(`group ${spec} of ${CONFIG_FILE}`, await groupUrls(spec, group, config));
}

/** One URL per line; `#` starts a comment (a whole line, or after the URL); blank lines are skipped. */
export function parseTargetFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line.length > 0);
}

async function groupUrls(name: string, group: unknown, config: TributaryConfig): Promise<string[]> {
  const where = `targets.${name} in ${CONFIG_FILE}`;
  const value = (typeof group === 'object' && group !== null ? group : {}) as Record<string, unknown>;
  const keys = Object.keys(value).sort().join(',');
  if (keys === 'file' && typeof value.file === 'string') {
    const file = resolve(config.root, value.file);
    if (!existsSync(file)) throw new TributaryError(`${where} names the file ${value.file}, which does not exist (relative to the workspace root).`);
    return parseTargetFile(readFileSync(file, 'utf8'));
  }
  if (keys === 'urls' && Array.isArray(value.urls) && value.urls.every((u) => typeof u === 'string')) return value.urls as string[];
  if (keys === 'query,url' && typeof value.query === 'string' && typeof value.url === 'string') return controlQuery(where, value.query, value.url);
  throw new TributaryError(`${where} must be {"file": PATH}, {"urls": [URL, …]} or {"query": SQL, "url": CONTROL_URL} (got ${redactSecrets(JSON.stringify(group))}).`);
}

/** The list kept in a control database: the first column of every row the query returns. */
async function controlQuery(where: string, query: string, url: string): Promise<string[]> {
  parsePostgresUrl(url, `the control database url of ${where}`);
  const client = new pg.Client({ connectionString: url, application_name: 'tributary', connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const result = await client.query({ text: query, rowMode: 'array' });
    return result.rows.map((row: unknown[]) => String(row[0] ?? '').trim()).filter(Boolean);
  } catch (error) {
    throw new TributaryError(`The targets query of ${where} failed on ${maskUrl(url)}: ${redactSecrets(describeError(error))}`, { cause: error });
  } finally {
    await client.end().catch(() => {});
  }
}

/** The list, once every URL is a PostgreSQL URL and none is listed twice. */
export function checkedTargets(source: string, urls: string[]): TargetList {
  if (urls.length === 0) throw new TributaryError(`${source} lists no target databases.`);
  const seen = new Set<string>();
  for (const [index, url] of urls.entries()) {
    parsePostgresUrl(url, `Target ${index + 1} of ${source}`);
    if (seen.has(url)) throw new TributaryError(`${source} lists ${maskUrl(url)} twice; each target database once.`);
    seen.add(url);
  }
  return { source, urls };
}
