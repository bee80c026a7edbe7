/**
 * Asks before a command that rewrites history or data: a y/N question on a terminal, skipped
 * with `--yes`; off a terminal nobody can answer, so it goes on — except where a wrong guess
 * destroys data (`restore`), which then needs `--yes`.
 */
import { TributaryError } from '../errors.ts';

export interface ConfirmOptions {
  /** `--yes` was given. */
  yes?: boolean;
  /** Off a terminal, refuse without `--yes` instead of going on. */
  yesRequiredOffTerminal?: boolean;
}

export async function confirm(command: string, consequence: string, options: ConfirmOptions): Promise<void> {
  if (options.yes) return;
  if (!process.stdin.isTTY) {
    if (options.yesRequiredOffTerminal) throw new TributaryError(`${command} ${consequence}; off a terminal it runs only with --yes.`);
    return;
  }
  const { createInterface } = await import('node:readline/promises'); // only when there is someone to ask
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${command} ${consequence}. Continue? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new TributaryError(`${command} cancelled; nothing was changed.`);
  } finally {
    prompt.close();
  }
}
