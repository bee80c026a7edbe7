/**
 * The dependency graph of the stream: validates `dependsOn` (known names, no cycles) and
 * answers which migrations a set of migrations needs, or which need it.
 */
import { relative } from 'node:path';
import { TributaryError } from '../errors.ts';
import type { MigrationDefinition } from './migration-file.ts';

export class MigrationGraph {
  readonly #byName: Map<string, MigrationDefinition>;

  /** `known`: every name in the stream (dependencies may be applied and not loaded). */
  constructor(definitions: MigrationDefinition[], known: Set<string>, root: string) {
    this.#byName = new Map(definitions.map((d) => [d.entry.name, d]));
    for (const definition of definitions) {
      for (const dependency of definition.dependsOn) {
        if (!known.has(dependency)) {
          throw new TributaryError(`Migration ${relative(root, definition.entry.file)} depends on ${dependency}, which is not in the stream.`);
        }
      }
    }
    this.#assertAcyclic();
  }

  get(name: string): MigrationDefinition | undefined {
    return this.#byName.get(name);
  }

  /** The names `names` depend on, transitively, not including `names` themselves. */
  dependenciesOf(names: Iterable<string>): Set<string> {
    const seen = new Set<string>();
    const stack = [...names];
    while (stack.length > 0) {
      for (const dependency of this.#byName.get(stack.pop()!)?.dependsOn ?? []) {
        if (!seen.has(dependency)) {
          seen.add(dependency);
          stack.push(dependency);
        }
      }
    }
    return seen;
  }

  /**
   * Orders `names` so that every migration follows what it depends on, and its own service's
   * earlier migrations among `names`; ties by name.
   */
  order(names: Iterable<string>): string[] {
    const wanted = new Set(names);
    const previous = new Map<string, string>(); // name → the service's previous wanted migration
    const lastOf = new Map<string, string>();
    for (const name of [...wanted].sort()) {
      const service = this.#byName.get(name)?.entry.service;
      if (!service) continue;
      const last = lastOf.get(service);
      if (last) previous.set(name, last);
      lastOf.set(service, name);
    }
    const done = new Set<string>();
    const result: string[] = [];
    const visit = (name: string) => {
      if (done.has(name) || !wanted.has(name)) return;
      done.add(name);
      const before = previous.get(name);
      if (before) visit(before);
      for (const dependency of [...(this.#byName.get(name)?.dependsOn ?? [])].sort()) visit(dependency);
      result.push(name);
    };
    for (const name of [...wanted].sort()) visit(name);
    return result;
  }

  #assertAcyclic(): void {
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, path: string[]) => {
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') {
        const cycle = [...path.slice(path.indexOf(name)), name].join(' → ');
        throw new TributaryError(`The stream has a dependsOn cycle: ${cycle}.`);
      }
      state.set(name, 'visiting');
      for (const dependency of this.#byName.get(name)?.dependsOn ?? []) visit(dependency, [...path, name]);
      state.set(name, 'done');
    };
    for (const name of this.#byName.keys()) visit(name, []);
  }
}
