/**
 * Runs the unified app: opens the database once (PGlite or PostgreSQL) with every service's
 * entities, runs the startup check on that same connection, listens, and on SIGTERM/SIGINT
 * closes the server, then the database. A refusal or a bad setting is one line and exit code 1.
 */
import type { AddressInfo } from 'node:net';
import { checkMigrationsOnStartup, loadConfig, openDatabase, readMigrationState, TributaryError, type Database } from '@tributary/migrate/boot';
import { buildGateway } from './app.ts';
import { services } from './services.ts';
import { settingsFromEnv, type GatewaySettings } from './settings.ts';

export interface ServeOptions {
  /** Applies pending migrations first whatever AUTO_MIGRATE says (`npm start`). */
  autoMigrate?: boolean;
}

export async function serve(options: ServeOptions = {}): Promise<void> {
  let db: Database | undefined;
  try {
    const settings: GatewaySettings = settingsFromEnv();
    const config = loadConfig({ cwd: import.meta.dirname });
    db = await openDatabase(config, { entities: services.flatMap((s) => s.entities) });
    console.error(`Using ${db.label}`);
    const boot = await checkMigrationsOnStartup({
      db,
      cwd: config.root,
      strict: settings.strict,
      autoMigrate: settings.autoMigrate || options.autoMigrate,
    });
    const open = db;
    const app = await buildGateway({
      orm: db.orm,
      services,
      health: async () => {
        const state = await readMigrationState(open, config);
        // Model changes are read once, at boot: the models loaded in this process cannot change.
        const degraded = state.migrations.pending > 0 || state.problems.length > 0 || boot.modelChanges.length > 0;
        return { status: degraded ? 'degraded' : 'ok', migrations: state.migrations };
      },
    });
    await app.listen({ port: settings.port, host: settings.host });
    const { port } = app.server.address() as AddressInfo;
    console.log(`Gateway listening on http://localhost:${port} (${boot.status === 'ok' ? 'migrations up to date' : 'degraded: see the warnings above'}; GET /health)`);
    closeOnSignals(async () => {
      await app.close();
      await open.close();
    });
  } catch (error) {
    await db?.close().catch(() => {});
    if (error instanceof TributaryError) {
      console.error(`error: ${error.message}`);
      if (error.hint) console.error(error.hint);
    } else {
      console.error('error: the gateway failed to start:', error);
    }
    process.exitCode = 1;
  }
}

function closeOnSignals(close: () => Promise<void>): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    console.error(`${signal}: closing the server and the database…`);
    close().then(
      () => process.exit(0),
      (error) => {
        console.error('error: shutdown failed:', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
