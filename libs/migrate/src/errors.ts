import { isAbsolute, relative } from 'node:path';

/**
 * A user mistake or an environment problem, told in one sentence that names the file,
 * service or migration involved. The CLI prints `message` alone (no stack) and exits 1.
 */
export class TributaryError extends Error {
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'TributaryError';
    this.hint = options.hint;
  }
}

/** An error's first line, with PostgreSQL's DETAIL (which key, which row) when it has one. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const first = error.message.split('\n')[0]!;
  const detail = detailOf(error);
  return detail && !first.includes(detail) ? `${first} (${detail})` : first;
}

function detailOf(error: unknown): string | undefined {
  for (let at = error as any, depth = 0; at && depth < 5; at = at.cause, depth++) {
    if (typeof at.detail === 'string' && at.detail.trim()) return at.detail.trim().split('\n')[0];
  }
  return undefined;
}

/** Ends `text` with a full stop, so that advice appended after it reads as a second sentence. */
export function sentence(text: string): string {
  return /[.!?…]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`;
}

/** A file as messages name it: relative to the current directory, or absolute when that would climb out of it. */
export function shownPath(file: string): string {
  const path = relative(process.cwd(), file);
  return path && !path.startsWith('..') && !isAbsolute(path) ? path : file;
}
