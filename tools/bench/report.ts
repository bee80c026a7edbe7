/**
 * The benchmark's output: one row per measured figure and size, printed as a table (plain for
 * the terminal, Markdown for the README) and written as results.json with the machine and the
 * versions it ran on.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Sample } from './measure.ts';
import { REPO } from './workspace.ts';

export interface Row {
  /** Key in results.json (`ratios` for comparisons, `figures` for every row). */
  key: string;
  title: string;
  size: '1×' | '4×';
  /** What was measured, e.g. "50 services × 20 entities". */
  scale: string;
  ours?: Sample;
  baseline?: Sample & { label: string };
  ratio?: number;
  /** The budget as text, and whether this row meets it (undefined: no budget at this size). */
  budget?: string;
  ok?: boolean;
  /** ours at 4× / ours at 1× (wall). */
  growth?: number;
  note?: string;
  /** Keep the verdict in a --quick run too (its sizes are the full ones). */
  judgedWhenQuick?: boolean;
}

export interface Machine {
  cores: number;
  cpu: string;
  ramGb: number;
  platform: string;
  /** 1-minute load averages when the run started and ended: other work on the machine skews every figure. */
  load: { start: number; end: number };
}

export function machine(loadAtStart: number): Machine {
  const load = { start: Math.round(loadAtStart * 100) / 100, end: Math.round(loadavg()[0]! * 100) / 100 };
  return { cores: cpus().length, cpu: cpus()[0]?.model.trim() ?? 'unknown', ramGb: Math.round(totalmem() / 2 ** 30), platform: `${process.platform} ${process.arch}`, load };
}

function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'n/a';
  }
}

function commandOutput(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'n/a';
  }
}

export function versions(postgres: string): Record<string, string> {
  const tributary = JSON.parse(readFileSync(join(REPO, 'libs/migrate/package.json'), 'utf8')).version;
  return {
    tributary: `${tributary} (${commandOutput('git', ['rev-parse', '--short', 'HEAD'])})`,
    node: process.version,
    mikroOrm: packageVersion('@mikro-orm/core'),
    nx: packageVersion('nx'),
    postgresql: postgres,
    psql: commandOutput('psql', ['--version']).replace(/^psql \(PostgreSQL\) /, ''),
  };
}

const ms = (value: number | undefined) => (value === undefined ? '' : value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);
const mb = (value: number | undefined) => (value === undefined || Number.isNaN(value) ? '' : `${Math.round(value)} MB`);
const ratio = (value: number | undefined) => (value === undefined ? '' : `${value.toFixed(2)}×`);

function cells(row: Row): string[] {
  const verdict = row.ok === undefined ? '' : row.ok ? 'ok' : 'MISSED';
  return [
    row.title,
    row.size,
    row.scale,
    row.ours ? `${ms(row.ours.wallMs)}${row.ours.rssMb ? `, ${mb(row.ours.rssMb)}` : ''}` : (row.note ?? 'n/a'),
    row.baseline ? `${row.baseline.label}: ${ms(row.baseline.wallMs)}, ${mb(row.baseline.rssMb)}` : '',
    ratio(row.ratio),
    row.growth === undefined ? '' : ratio(row.growth),
    row.budget ? `${row.budget} ${verdict}`.trim() : '',
  ];
}

const HEADER = ['measure', 'size', 'scale', 'Tributary (median wall, peak RSS)', 'baseline', 'ratio', '4×/1×', 'budget'];

export function textTable(rows: Row[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(table[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line)].join('\n');
}

export function markdownTable(rows: Row[]): string {
  const line = (r: string[]) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(HEADER), line(HEADER.map(() => '---')), ...rows.map((r) => line(cells(r)))].join('\n');
}

export function resultsJson(rows: Row[], context: { date: string; machine: Machine; versions: Record<string, string>; mode: string }): unknown {
  const ratios: Record<string, number> = {};
  const figures: Record<string, Record<string, unknown>> = {};
  const round = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? undefined : Math.round(v * 1000) / 1000);
  for (const row of rows) {
    const size = row.size === '1×' ? '1x' : '4x';
    if (row.ratio !== undefined) ratios[size === '1x' ? row.key : `${row.key}_4x`] = round(row.ratio)!;
    figures[row.key] ??= { title: row.title };
    figures[row.key]![size] = {
      scale: row.scale,
      ours: row.ours && { wallMs: round(row.ours.wallMs), peakRssMb: round(row.ours.rssMb), runsMs: row.ours.runs },
      baseline: row.baseline && { command: row.baseline.label, wallMs: round(row.baseline.wallMs), peakRssMb: round(row.baseline.rssMb), runsMs: row.baseline.runs },
      ratio: round(row.ratio),
      growth: round(row.growth),
      budget: row.budget,
      ok: row.ok,
      note: row.note,
    };
  }
  return { ...context, ratios, figures };
}
