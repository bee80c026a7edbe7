#!/usr/bin/env -S node --liftoff-only
// The `migrate` command. In the workspace it runs the TypeScript source (Node's type
// stripping); the published build rewrites this import to the compiled JavaScript.
//
// V8 flags, fixed when Node starts:
// - --liftoff-only (the shebang; npm's Windows shims read it too): the embedded PGlite database
//   and the SQL parser (libpg-query) are WebAssembly. By default V8 recompiles their hot functions
//   with its optimising compiler on background threads, and a process that lives for a second pays
//   for it without the pay-back: parsing 5,000 statements took 1.1 s and 440 MB the first time,
//   0.3 s and 126 MB on baseline code only; a drift check on PGlite peaked at ~660 MB (while Node
//   waited at exit for those compile jobs) and stays near 210 MB with it.
// - --max-semi-space-size=8, for makemigrations only: it holds every service's metadata at once;
//   with V8's default young generation its peak memory is ~320 MB at 50 services × 20 entities,
//   with 8 MB ~200 MB for the same time. Other commands keep the default (a smaller young
//   generation costs `check` ~15 % more time collecting garbage).
// A flag that is missing (run as `node …/migrate`, or makemigrations) makes the command replace
// itself (execve: same process, Unix) with one that has it.
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

const command = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
const FLAGS = command === 'makemigrations' ? ['--liftoff-only', '--max-semi-space-size=8'] : ['--liftoff-only'];
const missing = FLAGS.filter((flag) => !process.execArgv.some((arg) => arg.split('=')[0] === flag.split('=')[0]));
if (missing.length > 0 && typeof process.execve === 'function') {
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, fileURLToPath(import.meta.url), ...process.argv.slice(2)], process.env);
  } catch {
    // Not replaceable here (a platform without execve): run without the flags, only heavier.
  }
}

// Node's on-disk compile cache (type stripping + V8 code) halves start-up on every run after
// the first; it is keyed by file content, and a read-only disk merely disables it.
enableCompileCache?.();
// A command lives for a second: the embedded database's WebAssembly is not worth optimising.
(await import('../src/db/embedded.ts')).keepWasmOnBaselineCode();
await import('../src/cli/main.ts');
