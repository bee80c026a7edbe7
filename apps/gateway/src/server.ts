/**
 * Runs the unified app: opens the database once (PGlite or PostgreSQL) with every service's
 * entities, runs the startup check on that same connection, and listens until SIGTERM/SIGINT
 * (shutdown.ts). A refusal or a bad setting is one line and exit code 1.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { checkMigrationsOnStartup, loadConfig, openDatabase, readMigrationState, TributaryError, type Database } from '@tributary/migrate/boot';
import { buildGateway } from './app.ts';
import { services } from './services.ts';
import { settingsFromEnv, type GatewaySettings } from './settings.ts';
import { shutdownOnSignals } from './shutdown.ts';

export interface ServeOptions {
  /** Applies pending migrations first whatever AUTO_MIGRATE says (`npm start`). */
  autoMigrate?: boolean;
}

export async function serve(options: ServeOptions = {}): Promise<void> {
  const shutdown = shutdownOnSignals();
  let db: Database | undefined;
  try {
    const settings: GatewaySettings = settingsFromEnv();
    const config = loadConfig({ cwd: import.meta.dirname });
    db = await openDatabase(config, { entities: services.flatMap((s) => s.entities) });
    const open = db;
    shutdown.closeLater(() => open.close());
    console.error(`Using ${db.label}`);
    const boot = await checkMigrationsOnStartup({
      db,
      cwd: config.root,
      strict: settings.strict,
      autoMigrate: settings.autoMigrate || options.autoMigrate,
    });
    if (shutdown.requested) return shutdown.ready(); // stopped during boot: close without serving
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
    shutdown.closeLater(() => app.close());
    await listen(app, settings);
    const { port } = app.server.address() as AddressInfo;
    console.log(`Gateway listening on http://localhost:${port} (${boot.status === 'ok' ? 'migrations up to date' : 'degraded: see the warnings above'}; GET /health)`);
    shutdown.ready();
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

async function listen(app: FastifyInstance, settings: GatewaySettings): Promise<void> {
  try {
    await app.listen({ port: settings.port, host: settings.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new TributaryError(`Port ${settings.port} on ${settings.host} is already in use: stop what listens there, or set PORT to another port (0 picks a free one).`);
    if (code === 'EACCES') throw new TributaryError(`Not allowed to listen on port ${settings.port}: use a port above 1023, or set PORT.`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new TributaryError(`HOST ${settings.host} is not an address of this machine.`);
    throw error;
  }
}
