/** `npm start`, the main job: apply pending migrations (embedded PGlite unless DATABASE_URL), then serve — in one process, on one database handle. */
import { relative } from 'node:path';
import { loadConfig } from '@tributary/migrate/config';
import { describeTarget, embeddedDatabaseExists, keepWasmOnBaselineCode } from '@tributary/migrate/embedded';
import { loadServer } from './load-server.ts';

// Said before the heavy imports (the ORM, the web server) load, so that no start is silent.
console.error(startingLine());
// The embedded database of a development server: starting fast beats optimised WebAssembly.
keepWasmOnBaselineCode();
const serve = await loadServer();
await serve?.({ autoMigrate: true });

function startingLine(): string {
  try {
    const config = loadConfig({ cwd: import.meta.dirname });
    if (!config.databaseUrl && !embeddedDatabaseExists(config)) return `Creating the embedded database in ${relative(config.root, config.pgliteDir)}, then applying migrations…`;
    return `Starting: applying pending migrations to ${describeTarget(config)}, then serving…`;
  } catch {
    return 'Starting…'; // the configuration's problem is reported by serve(), in its own words
  }
}
