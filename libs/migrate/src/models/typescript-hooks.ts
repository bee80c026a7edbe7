/**
 * Lets Node load the TypeScript its type stripping cannot run: a workspace file with decorators
 * (legacy `experimentalDecorators` with decorator metadata, or TC39 decorators), enums or
 * parameter properties is compiled by SWC in an in-thread module hook; every other file is still
 * stripped natively. Relative imports written for a bundler (`./user`, `./user.js`) find `user.ts`.
 */
import { createRequire, registerHooks, setSourceMapsSupport, type ResolveFnOutput, type ResolveHookContext, type ResolveHookSync } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** How a TypeScript file has to be compiled for Node to run it. */
export type Compilation = 'native' | 'legacy-decorators' | 'es-decorators';

// A decorator opens a line (`@Entity()`, `  @Property()`, `export @Entity() class`).
const DECORATOR = /^[ \t]*(?:export[ \t]+(?:default[ \t]+)?)?@[A-Za-z_$]/m;
const NOT_ERASABLE = /^[ \t]*(?:export[ \t]+)?(?:declare[ \t]+)?(?:const[ \t]+)?enum[ \t]+[A-Za-z_$]|\bconstructor[ \t]*\([^)]*\b(?:public|private|protected|readonly)[ \t]+[A-Za-z_$]/m;
// MikroORM's TC39 decorators; any other decorated file is compiled the way
// `@mikro-orm/decorators/legacy` (and most decorated code bases) need: experimentalDecorators + metadata.
const ES_DECORATORS = /['"]@mikro-orm\/decorators\/es['"]/;
const MODULE_SYNTAX = /^[ \t]*(?:import[ \t{*'"]|export[ \t{*])/m;

export function compilationOf(source: string): Compilation {
  if (DECORATOR.test(source)) return ES_DECORATORS.test(source) ? 'es-decorators' : 'legacy-decorators';
  return NOT_ERASABLE.test(source) ? 'legacy-decorators' : 'native';
}

/** A file SWC could not parse, with the position it names (1-based line and column). */
export class TypeScriptSyntaxError extends SyntaxError {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(message: string, file: string, line: number | undefined, column: number | undefined) {
    super(message);
    this.name = 'SyntaxError';
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

type Swc = typeof import('@swc/core');
let swc: Swc | undefined;

/** JavaScript (an ES module, with an inline source map) for a file `compilationOf` did not call native. */
export function compileTypeScript(source: string, file: string, compilation: Exclude<Compilation, 'native'>): string {
  swc ??= createRequire(import.meta.url)('@swc/core') as Swc;
  try {
    return swc.transformSync(source, {
      filename: file,
      sourceMaps: 'inline',
      swcrc: false,
      configFile: false,
      module: { type: 'es6' },
      jsc: {
        target: 'es2022',
        keepClassNames: true, // MikroORM names entities after their classes
        parser: { syntax: 'typescript', decorators: true },
        transform: compilation === 'es-decorators' ? { decoratorVersion: '2022-03' } : { legacyDecorator: true, decoratorMetadata: true },
      },
    }).code;
  } catch (error) {
    throw swcSyntaxError(error, file, source);
  }
}

/**
 * SWC reports `x Expected ...` then a snippet of numbered rows (` 5 | code`) with a caret row
 * under the failing one (`   :     ^`, tabs drawn as four spaces); it becomes one sentence and a position.
 */
function swcSyntaxError(error: unknown, file: string, source: string): TypeScriptSyntaxError {
  const text = String(error instanceof Error ? error.message : error);
  const message = /^\s*x (.+)$/m.exec(text)?.[1]?.trim() ?? text.replace(/^Error:\s*/, '').split('\n')[0]!;
  const caret = /^ *(\d+) \|.*\n *:( *)\^/m.exec(text);
  if (!caret) return new TypeScriptSyntaxError(message, file, undefined, undefined);
  const line = Number(caret[1]);
  return new TypeScriptSyntaxError(message, file, line, columnOfDrawn(source.split('\n')[line - 1] ?? '', caret[2]!.length));
}

/** The 1-based column of the character drawn at 1-based `drawn` when tabs are drawn four wide. */
function columnOfDrawn(text: string, drawn: number): number {
  let width = 0;
  for (let index = 0; index < text.length; index++) {
    width += text[index] === '\t' ? 4 : 1;
    if (width >= drawn) return index + 1;
  }
  return drawn;
}

type NextResolve = Parameters<ResolveHookSync>[2];

let enabled = false;

/** Installs the hooks once per process; cheap for files that need nothing (one regex test). */
export function enableTypeScriptHooks(): void {
  if (enabled) return;
  enabled = true;
  const resolved = new Map<string, ResolveFnOutput>();
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const key = resolutionKey(specifier, context);
      const known = key === undefined ? undefined : resolved.get(key);
      if (known) return known;
      const result = resolveForTypeScript(specifier, context, nextResolve);
      // Answered here next time, without asking Node's resolver: hence shortCircuit.
      if (key !== undefined) resolved.set(key, { ...result, shortCircuit: true });
      return result;
    },
    load(url, context, nextLoad) {
      const loaded = nextLoad(url, context);
      if (!inWorkspace(url) || (loaded.format !== 'module-typescript' && loaded.format !== 'commonjs-typescript')) return loaded;
      const file = fileURLToPath(url);
      const source = loaded.source == null ? readFileSync(file, 'utf8') : Buffer.from(loaded.source as Uint8Array).toString('utf8');
      const compilation = compilationOf(source);
      if (compilation === 'native') return loaded;
      setSourceMapsSupport(true); // stack traces of a compiled file name its own lines
      const format = loaded.format === 'module-typescript' || MODULE_SYNTAX.test(source) ? 'module' : 'commonjs';
      return { format, source: compileTypeScript(source, file, compilation), shortCircuit: true };
    },
  });
}

function resolveForTypeScript(specifier: string, context: ResolveHookContext, nextResolve: NextResolve): ResolveFnOutput {
  try {
    return nextResolve(specifier, context);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_UNSUPPORTED_DIR_IMPORT') || !specifier.startsWith('.') || !inWorkspace(context.parentURL)) throw error;
    for (const candidate of typeScriptCandidates(specifier)) {
      try {
        return nextResolve(candidate, context);
      } catch {
        // not this one either
      }
    }
    throw error;
  }
}

/**
 * What a resolution depends on, so that it is made once per process: Node resolves a package
 * name, or a relative path, from the importing file's folder (node_modules lookup, package scope;
 * the path's own text, which `require` reads literally); but it does it no faster the thousandth
 * time, and a thousand model files that each import `@mikro-orm/core` paid a walk up the folders
 * each (a seventh of loading them). Undefined: not remembered (no importing file, a URL scheme or
 * `#` import of its own). Hooks registered before these run below them, and are asked once per
 * specifier and folder too: one that answers differently for two files of a folder is not for here.
 */
export function resolutionKey(specifier: string, context: Pick<ResolveHookContext, 'parentURL' | 'conditions' | 'importAttributes'>): string | undefined {
  const parent = context.parentURL;
  if (!parent?.startsWith('file:')) return undefined;
  if (specifier.startsWith('#') || /^[a-z][a-z0-9+.-]*:/i.test(specifier)) return undefined;
  return `${specifier}\0${new URL('.', parent).href}\0${context.conditions.join(',')}\0${JSON.stringify(context.importAttributes)}`;
}

function inWorkspace(url: string | undefined): url is string {
  return !!url && url.startsWith('file:') && !url.includes('/node_modules/');
}

/** `./user` → `./user.ts`, `./user/index.ts`; `./user.js` → `./user.ts` (TypeScript's own mapping). */
export function typeScriptCandidates(specifier: string): string[] {
  const js = /\.([mc]?)js$/.exec(specifier);
  if (js) return [`${specifier.slice(0, -js[0].length)}.${js[1]}ts`];
  if (/\.[mc]?ts$/.test(specifier)) return [];
  return [`${specifier}.ts`, `${specifier}.mts`, `${specifier}/index.ts`];
}
