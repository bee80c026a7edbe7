/**
 * The stream seen service by service: each service with its migrations (how many applied, when
 * a database was read), and the cross-service edges its migrations' `dependsOn` create — the
 * picture of who builds on whose tables.
 */
import type { TributaryConfig } from '../config/config.ts';
import { discoverServices } from '../config/services.ts';
import { loadMigration } from './migration-file.ts';
import { replacedBy, resolveDependencies } from './replaces.ts';
import type { StreamEntry } from './stream.ts';

export interface ServiceNode {
  name: string;
  migrations: number;
  /** Null when no database was read. */
  pending: number | null;
}

export interface ServiceEdge {
  /** The service whose migration depends on… */
  from: string;
  /** …a migration of this one. */
  to: string;
  /** Each dependency: the depending migration and the one it needs. */
  because: Array<{ migration: string; dependsOn: string; pending: boolean | null }>;
}

export interface ServiceGraph {
  services: ServiceNode[];
  edges: ServiceEdge[];
}

/** `pending`: what `migrate` would still apply to the database (squashes counted as it counts them), or undefined when none was read. */
export async function serviceGraph(config: TributaryConfig, stream: StreamEntry[], pending?: Set<string>): Promise<ServiceGraph> {
  const serviceOf = new Map(stream.map((e) => [e.name, e.service]));
  const names = new Set([...discoverServices(config).map((s) => s.name), ...stream.map((e) => e.service)]);
  const services = [...names].sort().map((name) => {
    const own = stream.filter((e) => e.service === name);
    return { name, migrations: own.length, pending: pending ? own.filter((e) => pending.has(e.name)).length : null };
  });

  const edges = new Map<string, ServiceEdge>();
  const squashes = replacedBy(stream);
  for (const entry of stream) {
    const { dependsOn } = await loadMigration(entry, config.root);
    // a dependency on a squashed migration is one on its squash (the replaced file may be gone)
    for (const needed of resolveDependencies(dependsOn, squashes)) {
      const to = serviceOf.get(needed);
      if (!to || to === entry.service) continue;
      const key = `${entry.service}→${to}`;
      const edge = edges.get(key) ?? { from: entry.service, to, because: [] };
      edge.because.push({ migration: entry.name, dependsOn: needed, pending: pending ? pending.has(entry.name) : null });
      edges.set(key, edge);
    }
  }
  return { services, edges: [...edges.values()].sort((a, b) => `${a.from}${a.to}`.localeCompare(`${b.from}${b.to}`)) };
}
