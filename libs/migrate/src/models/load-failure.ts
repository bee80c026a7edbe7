/**
 * Turns an error thrown while importing a model file into one sentence that names the file
 * where it happened — the imported file with the syntax error, or the line that threw — with
 * line and column, rather than the model file whose import reached it.
 */
import { realpathSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Service } from '../config/services.ts';
import { TributaryError, describeError } from '../errors.ts';
import { TypeScriptSyntaxError } from './typescript-hooks.ts';

export interface SourcePosition {
  file: string;
  line?: number;
  column?: number;
}

export function loadFailure(error: unknown, service: Service, modelFile: string, root: string): TributaryError {
  root = real(root);
  modelFile = real(modelFile);
  const at = failurePosition(error, root) ?? { file: modelFile };
  const where = `${relative(root, at.file)}${at.line ? `:${at.line}${at.column ? `:${at.column}` : ''}` : ''}`;
  const own = at.file === modelFile || at.file.startsWith(real(service.modelsDir) + sep);
  const subject = own ? `model file ${where}` : `${where} (imported by its model file ${relative(root, modelFile)})`;
  const message = error instanceof SyntaxError ? `SyntaxError: ${describeError(error)}` : describeError(error);
  return new TributaryError(`Service ${service.name}: ${subject} failed to load: ${message}`, { cause: error });
}

/**
 * Where the error happened, when it says: SWC's parse position, the `file:line` header and
 * caret Node puts on a syntax error it found, or the first stack frame in a workspace file.
 */
export function failurePosition(error: unknown, root: string): SourcePosition | undefined {
  root = real(root);
  if (error instanceof TypeScriptSyntaxError) return { file: error.file, line: error.line, column: error.column };
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  // `file:line`, a few lines of source around it, and a caret row under the failing one
  const header = /^(\S[^\n]*?):(\d+)\n(?:[^\n]*\n){1,5}?([ \t]*)\^+[ \t]*\n/.exec(stack);
  if (header) return { file: pathOf(header[1]!), line: Number(header[2]), column: header[3]!.length + 1 };
  for (const frame of stack.matchAll(/^\s+at (?:.*?\()?((?:file:\/\/)?\/[^\s():]+):(\d+):(\d+)\)?$/gm)) {
    const file = pathOf(frame[1]!);
    if (!file.startsWith(root + sep) || file.includes(`${sep}node_modules${sep}`)) continue;
    return { file, line: Number(frame[2]), column: Number(frame[3]) };
  }
  return undefined;
}

function pathOf(fileOrUrl: string): string {
  return real(fileOrUrl.startsWith('file:') ? fileURLToPath(fileOrUrl) : fileOrUrl);
}

/** Node names modules by their real path; the workspace may be reached through a link. */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
