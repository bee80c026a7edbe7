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

/** A dependency on a replaced migration is a dependency on its squash, whether or not the replaced file is still there. */
export function resolveDependencies(dependsOn: string[], squashes: Map<string, string>): string[] {
  const resolved = dependsOn.map((name) => {
    let current = name;
    for (let next = squashes.get(current); next && next !== current; next = squashes.get(current)) current = next;
    return current;
  });
  return [...new Set(resolved)];
}

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
