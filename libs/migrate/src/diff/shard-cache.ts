/**
 * Remembers the shards a read-only run (`makemigrations --check`, `--dry-run`, `check`) rebuilt
 * by replaying the stream, which it may not write to migrations/.snapshots: the next such run
 * reuses them instead of replaying again. They are trusted only for exactly the stream they were
 * replayed from (every migration's name and checksum) and the same Tributary and MikroORM, the
 * whole input of a replay. Kept in node_modules/.cache (never committed).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TributaryConfig } from '../config/config.ts';
import type { StreamEntry } from '../stream/stream.ts';
import { cacheFile } from '../stream/checksum-memo.ts';
import { toolVersions } from './check-cache.ts';
import type { Shard } from './snapshot.ts';

const FILE = 'rebuilt-shards';

function replayKey(config: TributaryConfig, stream: StreamEntry[]): string {
  return createHash('sha256')
    .update(stream.map((e) => `${e.name} ${e.checksum}`).join('\n'))
    .update(`\0${config.historySchema}.${config.historyTable}\0${toolVersions(config.root)}`)
    .digest('hex');
}

/** The shards of every service of `stream` as a replay of exactly this stream built them; undefined when none are remembered. */
export function rememberedShards(config: TributaryConfig, stream: StreamEntry[]): Map<string, Shard> | undefined {
  const file = cacheFile(config.root, FILE);
  if (!file) return undefined;
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { key: string; shards: Record<string, Shard> };
    return cached.key === replayKey(config, stream) ? new Map(Object.entries(cached.shards)) : undefined;
  } catch {
    return undefined;
  }
}

export function rememberShards(config: TributaryConfig, stream: StreamEntry[], shards: Map<string, Shard>): void {
  const file = cacheFile(config.root, FILE);
  if (!file) return;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ key: replayKey(config, stream), shards: Object.fromEntries(shards) }));
  } catch {
    // A read-only node_modules only means the next run replays again.
  }
}
