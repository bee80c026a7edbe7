/**
 * The read-only HTML page of the migration status (what `showmigrations` lists) and the service
 * graph, served by the gateway at `/migrations` and written by `migrate graph --format html`.
 * One self-contained document: inline CSS and SVG, no script.
 */
import type { TributaryConfig } from '../config/config.ts';
import type { HistoryRow } from '../db/history.ts';
import { compareStreamWithHistory } from '../executor/status.ts';
import { serviceGraph, type ServiceGraph } from '../stream/service-graph.ts';
import { readStream } from '../stream/stream.ts';
import { escape, toSvg } from './graph-formats.ts';

export interface PageMigration {
  name: string;
  service: string;
  applied: boolean | null;
  appliedAt: string | null;
}

export interface MigrationsPage {
  graph: ServiceGraph;
  migrations: PageMigration[];
  /** Which database the statuses come from; null when none was read. */
  database: string | null;
}

/** What the page shows: `rows` is the history read from `database`, or undefined when none was read. */
export async function migrationsOverview(config: TributaryConfig, rows: HistoryRow[] | undefined, database: string | null): Promise<MigrationsPage> {
  const stream = readStream(config.migrationsDir);
  const status = compareStreamWithHistory(stream, rows ?? []);
  const graph = await serviceGraph(config, stream, rows ? new Set(status.pending.map((e) => e.name)) : undefined);
  const migrations = status.migrations.map((m) => ({ name: m.name, service: m.service, applied: rows ? m.applied : null, appliedAt: m.appliedAt?.toISOString() ?? null }));
  return { graph, migrations, database: rows ? database : null };
}

export function migrationsPage(page: MigrationsPage): string {
  const pending = page.migrations.filter((m) => m.applied === false).length;
  const applied = page.migrations.filter((m) => m.applied).length;
  const summary = page.database === null ? `${page.migrations.length} migrations (no database read)` : `${applied} applied, ${pending} pending, ${page.migrations.length} total — ${escape(page.database)}`;
  const rows = page.migrations.map((m) => {
    // words in a coloured badge, not emoji: a server's browser may have no emoji font
    const state = m.applied === null ? '' : `<span class="badge">${m.applied ? 'applied' : 'pending'}</span>`;
    return `<tr class="${m.applied === false ? 'pending' : 'applied'}"><td>${state}</td><td>${escape(m.service)}</td><td><code>${escape(m.name)}</code></td><td>${m.appliedAt ? escape(m.appliedAt) : ''}</td></tr>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Migrations — Tributary</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #0f172a; }
  h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
  .summary { color: #334155; margin: 0 0 16px; }
  table { border-collapse: collapse; } th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid #e2e8f0; }
  tr.pending td { background: #fffbeb; } code { font-size: 13px; }
  .badge { display: inline-block; padding: 0 8px; border-radius: 9px; font-size: 12px; background: #dcfce7; color: #166534; }
  tr.pending .badge { background: #fef3c7; color: #92400e; }
</style>
</head>
<body>
<h1>Migrations</h1>
<p class="summary">${summary}</p>
<h2>Services</h2>
${toSvg(page.graph)}
<h2>Stream</h2>
<table>
<thead><tr><th>status</th><th>service</th><th>migration</th><th>applied at</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</body>
</html>
`;
}
