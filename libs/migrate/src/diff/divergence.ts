/**
 * Finds services whose migrations were written on different branches against the same parent
 * state: after a merge, such a service has several shard files, each listing its branch's
 * migrations after a common prefix. Git merged them without a conflict; a person should still
 * look at the combined result.
 */
import { readShards, shardFiles, shardServices } from './snapshot.ts';

export interface Divergence {
  service: string;
  /** The last migration both branches had (undefined: both started the service). */
  parent: string | undefined;
  /** Each branch's migrations after the parent, in order. */
  branches: string[][];
}

export function divergences(snapshotsDir: string): Divergence[] {
  const found: Divergence[] = [];
  for (const service of shardServices(snapshotsDir).sort()) {
    if (shardFiles(snapshotsDir, service).length < 2) continue; // one shard file is one branch: nothing to read
    const lists = readShards(snapshotsDir, service).flatMap(({ state }) => (state.status === 'ok' ? [state.shard.migrations] : []));
    // A list another one extends is not a branch of its own (a rebuilt shard beside a newer one, say).
    const tips = lists.filter((list, i) => !lists.some((other, j) => j !== i && startsWith(other, list) && (other.length > list.length || j < i)));
    if (tips.length < 2) continue;
    let shared = 0;
    while (tips.every((list) => list[shared] !== undefined && list[shared] === tips[0]![shared])) shared++;
    found.push({ service, parent: tips[0]![shared - 1], branches: tips.map((list) => list.slice(shared)) });
  }
  return found;
}

function startsWith(list: string[], prefix: string[]): boolean {
  return prefix.every((name, i) => list[i] === name);
}

/** The sentence `check` says about a divergence. */
export function divergenceMessage(divergence: Divergence): string {
  const branches = divergence.branches.map((names) => names.join(', ')).join(' and ');
  const parent = divergence.parent ? `the same parent state (after ${divergence.parent})` : 'the same parent state (no migration yet)';
  return `Service ${divergence.service}: migrations ${branches} were written on different branches against ${parent}; verify the combined result — \`migrate makemigrations --check\` must be clean — then run \`migrate makemigrations\` to record the combined shard.`;
}
