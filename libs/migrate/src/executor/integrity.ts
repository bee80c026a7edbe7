/**
 * Refuses to go on when the history and the stream disagree in a way only a person can
 * resolve: an applied file edited or deleted, or a non-transactional migration that failed.
 */
import { relative } from 'node:path';
import type { TributaryConfig } from '../config/config.ts';
import { TributaryError, sentence } from '../errors.ts';
import type { StreamStatus } from './status.ts';

export interface IntegrityFinding {
  kind: 'checksum-mismatch' | 'missing-file' | 'failed';
  service: string;
  migration: string;
  message: string;
}

/** `leftovers`: INVALID indexes now in the database, named so the user knows what to clean up. */
export function integrityFindings(status: StreamStatus, config: TributaryConfig, leftovers: string[] = []): IntegrityFinding[] {
  const findings: IntegrityFinding[] = [];
  for (const { entry } of status.mismatched) {
    const message = `Migration ${relative(config.root, entry.file)} was edited after it was applied (checksum mismatch); restore it, or run \`migrate repair\` if the edit is intended.`;
    findings.push({ kind: 'checksum-mismatch', service: entry.service, migration: entry.name, message });
  }
  for (const row of status.missing) {
    const message = `Applied migration ${row.name} (${row.service}) is missing from ${relative(config.root, config.migrationsDir)}/; restore the file, or run \`migrate repair\` to forget it.`;
    findings.push({ kind: 'missing-file', service: row.service, migration: row.name, message });
  }
  for (const row of status.failed) {
    const message = `Migration ${row.name} (${row.service}) is non-transactional and ${sentence(earlierFailure(row.error))} ${failedNonTransactionalAdvice(leftovers)}`;
    findings.push({ kind: 'failed', service: row.service, migration: row.name, message });
  }
  return findings;
}

export function integrityProblems(status: StreamStatus, config: TributaryConfig, leftovers: string[] = []): string[] {
  return integrityFindings(status, config, leftovers).map((finding) => finding.message);
}

/** What to do after a non-transactional migration failed (the run that failed and every later one say the same). */
export function failedNonTransactionalAdvice(leftovers: string[]): string {
  const what = leftovers.length > 0 ? `the INVALID index${leftovers.length === 1 ? '' : 'es'} ${leftovers.join(', ')} (DROP INDEX CONCURRENTLY …)` : 'what it left (for example an INVALID index)';
  return `Clean up ${what}, then run \`migrate repair\` to clear the failure and migrate again.`;
}

/** A pending migration of a service that already has a later one applied. */
export function outOfOrderMessage(entry: { name: string; service: string }): string {
  return `Migration ${entry.name} is pending but ${entry.service} already has a later migration applied (out of order).`;
}

/** The history row holds " at statement N (sql): error", ": error", or the runner's "interrupted: …" mark. */
function earlierFailure(error: string | null | undefined): string {
  if (!error) return 'failed earlier';
  if (error.startsWith('interrupted')) return `was interrupted earlier (${error.replace(/^interrupted:\s*/, '')})`;
  if (error.startsWith(' at ')) return `failed earlier${error}`;
  return `failed earlier: ${error.replace(/^:\s*/, '')}`;
}

export function assertIntegrity(status: StreamStatus, config: TributaryConfig, leftovers: string[] = []): void {
  const problems = integrityProblems(status, config, leftovers);
  if (problems.length > 0) throw new TributaryError(problems.join('\n'));
}
