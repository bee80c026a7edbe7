/**
 * Turns an error thrown while importing a model file into one sentence that names the file
 * where it happened — the imported file with the syntax error, or the line that threw — with
 * line and column, rather than the model file whose import reached it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Service } from '../config/services.ts';
import { TributaryError, describeError } from '../errors.ts';
import { reachableWorkspaceFiles } from './imports.ts';
import { TypeScriptSyntaxError, compilationOf } from './typescript-hooks.ts';

export interface SourcePosition {
  file: string;
  line?: number;
  column?: number;
}

const DECORATOR_HELPER = /^(?:_ts_decorate|__decorate|__esDecorate|_apply_decs\w*|applyDecs\w*)$/;

export function loadFailure(error: unknown, service: Service, modelFile: string, root: string): TributaryError {
  root = real(root);
  modelFile = real(modelFile);
  const at = failurePosition(error, root) ?? (error instanceof SyntaxError ? checkOneByOne(modelFile, root) : undefined) ?? { file: modelFile };
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
  for (const frame of stack.matchAll(/^\s+at (?:(.*?) \()?((?:file:\/\/)?\/[^\s():]+):(\d+):(\d+)\)?$/gm)) {
    const file = pathOf(frame[2]!);
    if (!file.startsWith(root + sep) || file.includes(`${sep}node_modules${sep}`)) continue;
    // A decorator that throws is applied by the helper the compiler put in the file, whose lines
    // map to no decorator in particular: the file is certain, a position would mislead.
    if (DECORATOR_HELPER.test(frame[1] ?? '')) return { file };
    return { file, line: Number(frame[3]), column: Number(frame[4]) };
  }
  return undefined;
}

/**
 * V8 rejects some code type stripping accepts (a name declared twice, `await` outside async)
 * and does not say where: each workspace file the import reached is then checked alone, as Node
 * compiles it (only on this failure path: a process per file).
 */
function checkOneByOne(modelFile: string, root: string): SourcePosition | undefined {
  for (const file of reachableWorkspaceFiles([modelFile], root)) {
    const source = readFileSync(file, 'utf8');
    if (compilationOf(source) !== 'native') continue; // SWC names its own syntax errors
    const check = spawnSync(process.execPath, ['--input-type=module', '--check'], { input: quietly(() => stripTypeScriptTypes(source)), encoding: 'utf8' });
    const at = /^\[stdin\]:(\d+)\n(?:[^\n]*\n){1,5}?([ \t]*)\^/.exec(check.stderr ?? '');
    if (check.status !== 0 && at) return { file, line: Number(at[1]), column: at[2]!.length + 1 };
  }
  return undefined;
}

/** Runs `fn` without the warning Node prints once for its experimental `stripTypeScriptTypes`. */
function quietly<T>(fn: () => T): T {
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return fn();
  } finally {
    process.emitWarning = emitWarning;
  }
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
