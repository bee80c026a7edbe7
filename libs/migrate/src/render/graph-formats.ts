/**
 * Draws the service graph as text for other tools (Mermaid for Markdown and GitHub, Graphviz
 * DOT) and as a self-contained SVG for the HTML page (no script, no network).
 */
import type { ServiceGraph, ServiceNode } from '../stream/service-graph.ts';

const migrations = (n: number) => `${n} migration${n === 1 ? '' : 's'}`;
const pendingNote = (node: ServiceNode) => (node.pending === null ? migrations(node.migrations) : node.pending > 0 ? `${node.pending} of ${migrations(node.migrations)} pending` : `${migrations(node.migrations)}, all applied`);
const id = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');

export function toMermaid(graph: ServiceGraph): string {
  const lines = ['graph LR'];
  for (const node of graph.services) lines.push(`  ${id(node.name)}["${node.name}<br/>${pendingNote(node)}"]${node.pending ? ':::pending' : ''}`);
  for (const edge of graph.edges) lines.push(`  ${id(edge.from)} -->|${edge.because.length} dependsOn| ${id(edge.to)}`);
  if (graph.services.some((n) => n.pending)) lines.push('  classDef pending stroke:#d97706,stroke-width:3px');
  return `${lines.join('\n')}\n`;
}

export function toDot(graph: ServiceGraph): string {
  const lines = ['digraph tributary {', '  rankdir=LR;', '  node [shape=box, style=rounded];'];
  for (const node of graph.services) lines.push(`  "${node.name}" [label="${node.name}\\n${pendingNote(node)}"${node.pending ? ', color="#d97706", penwidth=3' : ''}];`);
  for (const edge of graph.edges) lines.push(`  "${edge.from}" -> "${edge.to}" [label="${edge.because.length} dependsOn"];`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Columns by dependency depth (a service right of those it depends on), rows in name order. */
export function toSvg(graph: ServiceGraph): string {
  const depth = new Map<string, number>();
  const dependsOn = (name: string) => graph.edges.filter((e) => e.from === name).map((e) => e.to);
  const depthOf = (name: string, seen = new Set<string>()): number => {
    if (depth.has(name)) return depth.get(name)!;
    if (seen.has(name)) return 0; // a cycle between services: draw it, don't loop
    seen.add(name);
    const d = Math.max(-1, ...dependsOn(name).map((n) => depthOf(n, seen))) + 1;
    depth.set(name, d);
    return d;
  };
  const [width, height, gapX, gapY] = [190, 54, 90, 26];
  const rows = new Map<number, number>();
  const box = new Map<string, { x: number; y: number }>();
  for (const node of graph.services) {
    const column = depthOf(node.name);
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    box.set(node.name, { x: 20 + column * (width + gapX), y: 20 + row * (height + gapY) });
  }
  const svgWidth = 40 + Math.max(1, ...[...rows.keys()].map((c) => c + 1)) * (width + gapX) - gapX;
  const svgHeight = 40 + Math.max(1, ...rows.values()) * (height + gapY) - gapY;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${svgWidth}" height="${svgHeight}" viewBox="0 0 ${svgWidth} ${svgHeight}" role="img" aria-label="services and their cross-service dependencies">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#475569"/></marker></defs>',
  ];
  for (const edge of graph.edges) {
    const from = box.get(edge.from)!;
    const to = box.get(edge.to)!;
    const [x1, y1, x2, y2] = [from.x, from.y + height / 2, to.x + width, to.y + height / 2];
    const label = `${edge.because.length} dependsOn`;
    parts.push(`<g class="edge" data-from="${escape(edge.from)}" data-to="${escape(edge.to)}"><line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#475569" stroke-width="1.5" marker-end="url(#arrow)"/><text x="${(x1 + x2) / 2}" y="${(y1 + y2) / 2 - 6}" text-anchor="middle" font-size="11" fill="#475569">${label}</text></g>`);
  }
  for (const node of graph.services) {
    const { x, y } = box.get(node.name)!;
    const pending = Boolean(node.pending);
    parts.push(
      `<g class="service${pending ? ' pending' : ''}" data-service="${escape(node.name)}"><rect x="${x}" y="${y}" width="${width}" height="${height}" rx="8" fill="${pending ? '#fffbeb' : '#f8fafc'}" stroke="${pending ? '#d97706' : '#64748b'}" stroke-width="${pending ? 3 : 1.5}"/>` +
        `<text x="${x + width / 2}" y="${y + 22}" text-anchor="middle" font-size="14" font-weight="600" fill="#0f172a">${escape(node.name)}</text>` +
        `<text x="${x + width / 2}" y="${y + 41}" text-anchor="middle" font-size="12" fill="#334155">${escape(pendingNote(node))}</text></g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
