// The database part's worker thread, in the source workspace: Node's compile cache is per thread,
// and a TypeScript module loaded before it is on is type-stripped from scratch (Node then loads its
// TypeScript stripper, ~0.3 s of CPU). The published build is JavaScript and starts at
// database-worker.js itself (see databasePartInWorker).
import { enableCompileCache } from 'node:module';

enableCompileCache?.();
await import('./database-worker.ts');
