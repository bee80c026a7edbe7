/**
 * Refuses, before anything of a plan runs, a migration whose SQL lint rates as an error that its
 * file does not acknowledge (`static allow`): transaction control inside a transactional
 * migration or CONCURRENTLY there always; destructive changes (drop table/column, narrowing a
 * type) unless the run says `--allow-destructive`.
 */
import { lintMigrations, type RuleId } from '../checks/lint.ts';
import { TributaryError } from '../errors.ts';
import type { MigrationDefinition } from '../stream/migration-file.ts';

const DESTRUCTIVE: ReadonlySet<RuleId> = new Set<RuleId>(['drop-table', 'drop-column', 'narrow-type']);

export async function refuseLintErrors(plan: MigrationDefinition[], root: string, allowDestructive = false): Promise<void> {
  if (plan.length === 0) return;
  const report = await lintMigrations(plan, root);
  const refused = report.findings.filter((f) => f.severity === 'error' && !f.allowed && !(allowDestructive && DESTRUCTIVE.has(f.rule)));
  if (refused.length === 0) return;
  const first = refused[0]!;
  const escape = DESTRUCTIVE.has(first.rule)
    ? `acknowledge it in the file with static allow = [{ rule: '${first.rule}', reason: '…' }], or run with --allow-destructive`
    : first.safely;
  const more = refused.length > 1 ? ` (${refused.length - 1} more lint error${refused.length === 2 ? '' : 's'}: \`migrate lint\` lists them)` : '';
  throw new TributaryError(`Migration ${first.file} was refused before anything ran: [${first.rule}] ${first.message} Statement: ${first.statement}. To go on: ${escape}.${more}`);
}
