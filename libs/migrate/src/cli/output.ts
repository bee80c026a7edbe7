/**
 * How the CLI talks: results on stdout (one JSON document with `--json`), notes and errors on
 * stderr (progress: see progress.ts).
 */
import { redactSecrets } from '../db/urls.ts';
import { TributaryError, shownPath } from '../errors.ts';

export const interactive = (): boolean => Boolean(process.stdout.isTTY) && !process.env.CI;

export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function print(message = ''): void {
  process.stdout.write(`${message}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints a user mistake as its sentence, anything else with its stack only under --verbose. */
export function reportError(error: unknown, verbose: boolean, json = false): void {
  // With --json, stdout holds exactly one JSON document, on failure too.
  if (json) printJson({ error: redactSecrets(error instanceof Error ? error.message : String(error)) });
  if (error instanceof TributaryError && !verbose) {
    note(`error: ${redactSecrets(error.message)}`);
    if (error.hint) note(redactSecrets(error.hint));
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  // An unexpected error may quote a connection string: its password is masked all the same.
  note(`error: ${redactSecrets((verbose && error instanceof Error ? error.stack : message) ?? message)}`);
  if (!verbose && !(error instanceof TributaryError)) note('(run with --verbose for details)');
}

/** `3 migrations`, `1 migration`. */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A path as the user would type it: relative to where they are, absolute when that climbs out. */
export const rel = shownPath;

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
