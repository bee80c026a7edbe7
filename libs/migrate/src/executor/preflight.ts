/**
 * Refuses, before anything of a plan runs, a migration whose SQL lint rates as an error that its
 * file does not acknowledge (`static allow`): transaction control inside a transactional
 * migration or CONCURRENTLY there always, an SQL syntax error always; destructive changes (drop
 * table/column, narrowing a type) unless the run says `--allow-destructive`. A generated
 * migration found harmless once is remembered by checksum, so a plan of only such migrations
 * needs no SQL parser at all.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { lintMigrations, type RuleId } from '../checks/lint.ts';
import { TributaryError } from '../errors.ts';
import { ChecksumMemo, rulesKey } from '../stream/checksum-memo.ts';
import type { MigrationDefinition } from '../stream/migration-file.ts';

const DESTRUCTIVE: ReadonlySet<RuleId> = new Set<RuleId>(['drop-table', 'drop-column', 'narrow-type']);

/**
 * What a harmless verdict rests on: the lint rules, how a generated file's SQL is read from its
 * text (the writer), and the parser's version. Read when first needed.
 */
function lintRules(): string {
  const source = (path: string) => readFileSync(join(import.meta.dirname, `${path}${extname(import.meta.filename)}`));
  const parser = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('libpg-query/package.json'), 'utf8')).version as string; // resolved, not loaded
  return rulesKey(source('../checks/lint'), source('../diff/writer'), parser);
}

export async function refuseLintErrors(plan: MigrationDefinition[], root: string, allowDestructive = false): Promise<void> {
  if (plan.length === 0) return;
  // Only a file whose SQL is its text (a generated one, read not run) can be judged by its checksum:
  // an imported migration's up() may add different SQL from one run to the next.
  const remembered = ChecksumMemo.open(root, 'harmless-migrations', lintRules());
  if (plan.every((d) => d.sql && remembered.has(d.entry.checksum))) return;
  const report = await lintMigrations(plan, root);
  const harmless = new Set(report.harmless);
  for (const definition of plan) if (definition.sql && harmless.has(definition.entry.name)) remembered.add(definition.entry.checksum);
  remembered.save();
  const refused = report.findings.filter((f) => f.severity === 'error' && !f.allowed && !(allowDestructive && DESTRUCTIVE.has(f.rule)));
  if (refused.length === 0) return;
  const first = refused[0]!;
  const escape = DESTRUCTIVE.has(first.rule)
    ? `acknowledge it in the file with static allow = [{ rule: '${first.rule}', reason: '…' }], or run with --allow-destructive`
    : first.safely;
  const more = refused.length > 1 ? ` (${refused.length - 1} more lint error${refused.length === 2 ? '' : 's'}: \`migrate lint\` lists them)` : '';
  throw new TributaryError(`Migration ${first.file} was refused before anything ran: [${first.rule}] ${first.message} Statement: ${first.statement}. To go on: ${escape}.${more}`);
}
