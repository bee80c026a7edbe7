/**
 * Builds a publishable copy of a TypeScript-source package (`libs/migrate` → `dist/libs/migrate`):
 * tsc emits JavaScript and declarations, relative `.ts` specifiers become `.js` (Node refuses
 * type stripping inside node_modules), and package.json, executors.json, generators.json and
 * the bin point at the JavaScript. Usage: node tools/publish/build.ts <package dir> <out dir>.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, globSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const [packageArg, outArg] = process.argv.slice(2);
if (!packageArg || !outArg) {
  process.stderr.write('usage: node tools/publish/build.ts <package dir> <out dir>\n');
  process.exit(1);
}
const pkgDir = resolve(packageArg);
const outDir = resolve(outArg);
const tsconfig = join(pkgDir, 'tsconfig.lib.json');

/** `./x.ts` → `./x.js` for relative specifiers in emitted or copied code. */
function toJsSpecifiers(code: string): string {
  return code.replace(/(['"])(\.{1,2}\/[^'"\n]*?)\.ts\1/g, '$1$2.js$1');
}

/** A source entry point (`./src/index.ts`) as its built pair. */
function entry(path: string): { types: string; default: string } | string {
  return path.endsWith('.ts') ? { types: path.replace(/\.ts$/, '.d.ts'), default: path.replace(/\.ts$/, '.js') } : path;
}

function readJson(file: string): any {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

rmSync(outDir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', tsconfig, '--outDir', outDir], { stdio: 'inherit' });

// Declarations keep the `.ts` specifiers of the source; consumers resolve `.js`.
for (const file of globSync('**/*.d.ts', { cwd: outDir })) {
  const path = join(outDir, file);
  writeFileSync(path, toJsSpecifiers(readFileSync(path, 'utf8')));
}
// JSON next to the code (executor and generator schemas) travels with it.
for (const file of globSync('src/**/*.json', { cwd: pkgDir })) cpSync(join(pkgDir, file), join(outDir, file));
// Files the code reads at run time (the embedded database's pre-built cluster).
if (existsSync(join(pkgDir, 'assets'))) cpSync(join(pkgDir, 'assets'), join(outDir, 'assets'), { recursive: true });

for (const manifest of ['executors.json', 'generators.json']) {
  if (existsSync(join(pkgDir, manifest))) writeFileSync(join(outDir, manifest), toJsSpecifiers(readFileSync(join(pkgDir, manifest), 'utf8')));
}

const pkg = readJson(join(pkgDir, 'package.json'));
for (const [name, path] of Object.entries<string>(pkg.bin ?? {})) {
  const source = readFileSync(join(pkgDir, path), 'utf8');
  mkdirSync(dirname(join(outDir, path)), { recursive: true });
  writeFileSync(join(outDir, path), toJsSpecifiers(source), { mode: 0o755 });
  if (toJsSpecifiers(source) === source) process.stderr.write(`note: bin ${name} (${path}) imports no .ts file\n`);
}
if (pkg.main) pkg.main = pkg.main.replace(/\.ts$/, '.js');
if (pkg.types) pkg.types = pkg.types.replace(/\.ts$/, '.d.ts');
// A source-only JavaScript entry (`{ types: './src/nx/plugin.ts', default: './src/nx/plugin.entry.js' }`)
// gives way to the compiled module of its TypeScript source.
pkg.exports = Object.fromEntries(Object.entries<string | { types: string }>(pkg.exports ?? {}).map(([key, path]) => [key, entry(typeof path === 'string' ? path : path.types)]));
writeJson(join(outDir, 'package.json'), pkg);
for (const extra of ['README.md', 'LICENSE']) if (existsSync(join(pkgDir, extra))) cpSync(join(pkgDir, extra), join(outDir, extra));

process.stdout.write(`Built ${pkg.name}@${pkg.version} into ${outArg}\n`);
