/**
 * Budgets of the apply, status and boot rows in both modes. A full run judges a row against the
 * budget as DESIGN.md states it. A quick run (smaller sizes) judges it against the budget scaled
 * to its size: the per-item allowance times the quick size, plus the fixed cost the full budget
 * also covers — the CLI's start-up (measured in the same run), or for the in-process boot check one
 * query and one directory listing; a ratio to psql allows psql's time × the ratio plus that start-up.
 */
import { median, runOnce } from '../measure.ts';
import type { Row } from '../report.ts';
import { tributary, type Plan } from './context.ts';

/** What a boot check costs whatever the size: a query on an open connection, a directory listing. */
export const BOOT_FIXED_MS = 5;

export type Verdict = Pick<Row, 'budget' | 'ok' | 'judgedWhenQuick'>;

/** Median wall time of `migrate --version` in `workspace`: the process start-up every CLI figure includes. */
export async function cliStartMs(workspace: string): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) runs.push((await runOnce(tributary('migrate --version', workspace, ['--version']))).wallMs);
  return median(runs);
}

const ms = (value: number) => `${Math.round(value)} ms`;

/** `wallMs` under `budgetMs` (set for `fullCount` items; this run has `count`), `fixedMs` being what a quick run keeps whole. */
export function timeBudget(plan: Plan, wallMs: number, budgetMs: number, fullCount: number, count: number, fixedMs: number): Verdict {
  if (plan.mode === 'full') return { budget: `< ${budgetMs >= 1000 ? `${budgetMs / 1000} s` : ms(budgetMs)}`, ok: wallMs < budgetMs };
  const scaled = (budgetMs * count) / fullCount + fixedMs;
  return { budget: `< ${ms(scaled)} (scaled)`, ok: wallMs < scaled, judgedWhenQuick: true };
}

/** `oursMs` within `ratio` × `baselineMs` (a quick run adds the CLI start-up `startMs`). */
export function ratioBudget(plan: Plan, measuredRatio: number, oursMs: number, baselineMs: number, ratio: number, startMs: number): Verdict {
  if (plan.mode === 'full') return { budget: `≤ ${ratio}×`, ok: measuredRatio <= ratio };
  return { budget: `≤ ${ratio}× + start-up ${ms(startMs)} (scaled)`, ok: oursMs <= ratio * baselineMs + startMs, judgedWhenQuick: true };
}
