/**
 * `migrate plan [--since REV] [--format text|markdown|json]`: what a deploy will do — pending (or
 * newly added) migrations in apply order, each statement's locks, tables and owners, lint
 * findings, and the replay verification; markdown is ready for a pull-request comment. Exit 1
 * when the replay fails.
 */
import { Option, type Command } from 'commander';
import * as api from '../../api.ts';
import type { PlannedMigration, PlannedStatement, PlanReport } from '../../checks/plan.ts';
import { RECORDED_SQUASH } from '../../stream/replaces.ts';
import { announcingTarget } from '../verbs.ts';
import { plural, print, printJson } from '../output.ts';


export function register(program: Command): void {
  program
    .command('plan')
    .description('what a deploy will do: pending migrations in apply order, each statement with its locks, tables, owners and lint findings, verified by a replay on PGlite')
    .option('--since <rev>', 'plan the migration files added since this git revision (no database needed)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
    .option('--json', 'same as --format json')
    .action(async (opts) => {
      const format = opts.json ? 'json' : opts.format;
      const report = await api.plan(format === 'json' ? {} : announcingTarget(), { since: opts.since });
      if (!report.ok) process.exitCode = 1;
      if (format === 'json') return printJson(report);
      print(format === 'markdown' ? markdown(report) : text(report));
    });
}

function verdict(report: PlanReport): string {
  const { verification: v } = report;
  const first = v.replayedFirst ? ` (${plural(v.replayedFirst, 'earlier migration')} first)` : '';
  if (v.ok) return `Verified: replayed on an in-memory PGlite copy of the stream${first}; every statement ran.`;
  return `Replay FAILED at ${v.failure!.migration}: ${v.failure!.message} — nothing was run on a real database.`;
}

const lockLine = (s: PlannedStatement) => s.locks.map((l) => `${l.mode} on ${l.table} (${l.owner ?? 'no owner'})`).join(', ');

function text(report: PlanReport): string {
  const lines = [`Plan: ${plural(report.migrations.length, 'migration')} (${report.scope}), in the order migrate applies them.`];
  report.migrations.forEach((m, i) => {
    lines.push('', `${i + 1}. ${m.name} (${m.service})${m.transactional ? '' : ' — non-transactional'}${m.recordOnly ? ` — ${RECORDED_SQUASH}` : ''}`);
    for (const s of m.statements) {
      lines.push(`   ${s.sql};`);
      lines.push(`     ${s.locks.length ? `${lockLine(s)} — ${appTraffic(s.blocks)}` : (s.note ?? 'no table lock')}`);
    }
    for (const q of m.directQueries) lines.push(`   (queries the database itself when it runs: ${q})`);
    for (const f of m.lint) lines.push(`   lint ${f.allowed ? 'allowed' : f.severity} [${f.rule}]: ${f.message}`);
  });
  lines.push('', verdict(report));
  return lines.join('\n');
}

/** A table cell: one line, pipes escaped, long SQL shortened. */
function cell(value: string, max = 160): string {
  const short = value.length > max ? `${value.slice(0, max - 1)}…` : value;
  return short.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

const code = (value: string) => `\`${cell(value).replaceAll('`', "'")}\``;

function markdownMigration(m: PlannedMigration, index: number): string[] {
  const lines = [`### ${index + 1}. \`${m.name}\` — ${m.service}${m.transactional ? '' : ' (non-transactional)'}`, ''];
  if (m.recordOnly) lines.push(`_${RECORDED_SQUASH}._`);
  else if (m.statements.length === 0) lines.push('_No SQL collected._');
  else {
    lines.push('| # | Statement | Lock | Blocks | Tables (owner) |', '|---:|---|---|---|---|');
    m.statements.forEach((s, i) => {
      const tables = s.locks.map((l) => `\`${l.table}\` (${l.owner ?? 'no owner'})${l.mode === s.lock ? '' : `: ${l.mode}`}`).join('<br>');
      lines.push(`| ${i + 1} | ${code(s.sql)} | ${s.lock ?? cell(s.note ?? 'none')} | ${s.blocks} | ${tables || '—'} |`);
    });
  }
  for (const q of m.directQueries) lines.push('', `- Queries the database itself when it runs: ${code(q)}`);
  lines.push('');
  if (m.lint.length === 0) lines.push('Lint: no findings.');
  for (const f of m.lint) lines.push(`- ${f.allowed ? '☑️ allowed' : f.severity === 'error' ? '❌ error' : '⚠️ warning'} \`${f.rule}\`: ${f.message}${f.allowed ? '' : ` _Safely:_ ${f.safely}`}`);
  return lines;
}

function markdown(report: PlanReport): string {
  const lines = [
    '## Migration plan',
    '',
    `${plural(report.migrations.length, 'migration')} — ${report.scope} — in the order \`migrate\` applies them.`,
    '',
    `${report.verification.ok ? '✅' : '❌'} ${verdict(report)}`,
  ];
  report.migrations.forEach((m, i) => lines.push('', ...markdownMigration(m, i)));
  return lines.join('\n');
}

/** What the lock does to ordinary application traffic, said as such: ROW EXCLUSIVE still blocks a plain CREATE INDEX. */
function appTraffic(blocks: string): string {
  return blocks === 'nothing' ? 'app reads and writes go on' : `blocks app ${blocks}`;
}
