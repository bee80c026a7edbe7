/**
 * Squashes (`static replaces`, Django's `replaces`): which squash a replaced migration now stands
 * under, and which of a squash's migrations a database uses — the squash itself when it is applied
 * or when none of the migrations it replaces is, the replaced ones otherwise (the squash is then
 * recorded once they are all applied).
 */
import type { StreamEntry } from './stream.ts';

/** Replaced name → the newest squash of the stream that replaces it (squashes of squashes included). */
export function replacedBy(stream: StreamEntry[]): Map<string, string> {
  const squashes = new Map<string, string>();
  for (const entry of stream) {
    for (const name of entry.replaces ?? []) if ((squashes.get(name) ?? '') < entry.name) squashes.set(name, entry.name);
  }
  return squashes;
}

/**
 * A dependency on a replaced migration is a dependency on its squash, whether or not the replaced
 * file is still there. With `among` (the migrations being ordered): the one of them that stands
 * for it — itself, or a squash replacing it (a database past an older squash replays that one, not
 * the newest); otherwise the newest squash.
 */
export function resolveDependencies(dependsOn: string[], squashes: Map<string, string>, among: StreamEntry[] = []): string[] {
  const resolved = dependsOn.map((name) => {
    if (!squashes.has(name)) return name;
    const standing = among.find((e) => e.name === name) ?? among.find((e) => e.replaces?.includes(name));
    if (standing) return standing.name;
    let current = name;
    for (let next = squashes.get(current); next && next !== current; next = squashes.get(current)) current = next;
    return current;
  });
  return [...new Set(resolved)];
}

/** What `migrate --dry-run` and `plan` say of a squash a database records without running (as migrate --fake would). */
export const RECORDED_SQUASH = 'recorded without running: the migrations it replaces are applied first';

export interface SquashUse {
  /** Migrations a used squash stands for: neither pending nor listed (the squash is). */
  represented: Set<string>;
  /** Squashes whose replaced migrations are (partly) applied: recorded without running once those are. */
  recordOnly: Set<string>;
}

/** How a database with `applied` migrations uses the stream's squashes. */
export function squashUse(stream: StreamEntry[], applied: Set<string>): SquashUse {
  const represented = new Set<string>();
  const recordOnly = new Set<string>();
  for (const squash of stream) {
    if (!squash.replaces) continue;
    const used = applied.has(squash.name) || !squash.replaces.some((name) => applied.has(name));
    if (used) for (const name of squash.replaces) represented.add(name);
    else recordOnly.add(squash.name);
  }
  for (const name of represented) recordOnly.delete(name);
  return { represented, recordOnly };
}
