#!/usr/bin/env node
// The `migrate` command. In the workspace it runs the TypeScript source (Node's type
// stripping); the published build rewrites this import to the compiled JavaScript.
import { spawn } from 'node:child_process';
import { enableCompileCache } from 'node:module';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

// makemigrations holds every service's metadata at once: with V8's default young generation
// (32 MB+ semi-spaces) its peak memory is ~320 MB at 50 services × 20 entities, with 8 MB ~200 MB
// for the same time. The size is fixed when Node starts, so the command runs once more with it.
const YOUNG_GENERATION = '--max-semi-space-size=8';
const command = process.argv.slice(2).find((arg) => !arg.startsWith('-'));

if (command === 'makemigrations' && !process.execArgv.some((arg) => arg.startsWith('--max-semi-space-size'))) {
  const child = spawn(process.execPath, [...process.execArgv, YOUNG_GENERATION, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
} else {
  // Node's on-disk compile cache (type stripping + V8 code) halves start-up on every run after
  // the first; it is keyed by file content, and a read-only disk merely disables it.
  enableCompileCache?.();
  // A command lives for a second: the embedded database's WebAssembly is not worth optimising.
  (await import('../src/db/embedded.ts')).keepWasmOnBaselineCode();
  await import('../src/cli/main.ts');
}
