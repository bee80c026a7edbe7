#!/usr/bin/env node
// The `migrate` command. In the workspace it runs the TypeScript source (Node's type
// stripping); the published build rewrites this import to the compiled JavaScript.
import { enableCompileCache } from 'node:module';

// Node's on-disk compile cache (type stripping + V8 code) halves start-up on every run after
// the first; it is keyed by file content, and a read-only disk merely disables it.
enableCompileCache?.();
// A command lives for a second: the embedded database's WebAssembly is not worth optimising.
(await import('../src/db/embedded.ts')).keepWasmOnBaselineCode();
await import('../src/cli/main.ts');
