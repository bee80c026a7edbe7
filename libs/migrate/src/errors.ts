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

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0]!;
  return String(error);
}
