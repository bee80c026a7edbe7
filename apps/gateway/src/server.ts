/**
 * Runs the unified app: opens its own database connection once (PGlite or PostgreSQL, database.ts)
 * with every service's entities, lends it to the startup check, and listens until SIGTERM/SIGINT
 * or until its parent is gone (shutdown.ts). A refusal or a bad setting is one line and exit code 1.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { checkMigrationsOnStartup, loadConfig, redactSecrets, renderMigrationsPage, TributaryError } from '@tributary/migrate/boot';
import { buildGateway } from './app.ts';
import { openAppDatabase, type AppDatabase } from './database.ts';
import { migrationHealth } from './health.ts';
import { services } from './services.ts';
import { settingsFromEnv, type GatewaySettings } from './settings.ts';
import { shutdownOnSignals } from './shutdown.ts';

export interface ServeOptions {
  /** Applies pending migrations first whatever AUTO_MIGRATE says (`npm start`). */
  autoMigrate?: boolean;
}

export async function serve(options: ServeOptions = {}): Promise<void> {
  const shutdown = shutdownOnSignals();
  let database: AppDatabase | undefined;
  try {
    const settings: GatewaySettings = settingsFromEnv();
    const config = loadConfig({ cwd: import.meta.dirname });
    const open = (database = await openAppDatabase(config, { entities: services.flatMap((s) => s.entities), poolMax: settings.poolMax }));
    shutdown.closeLater(() => open.close());
    console.error(`Using ${open.db.label}`);
    // AUTO_MIGRATE runs on MIGRATION_DATABASE_URL's own connection when that is set, else on this one.
    const boot = await checkMigrationsOnStartup({
      db: open.db,
      cwd: config.root,
      strict: settings.strict,
      autoMigrate: settings.autoMigrate || options.autoMigrate,
    });
    await open.db.close(); // gives back the session the check pinned; the ORM stays open
    if (shutdown.requested) return shutdown.ready(); // stopped during boot: close without serving
    const app = await buildGateway({
      orm: open.orm,
      services,
      health: migrationHealth(open.db, config, boot.modelChanges),
      migrationsPage: settings.migrationsPage ? () => renderMigrationsPage(open.db, config) : undefined,
    });
    shutdown.closeLater(() => app.close());
    await listen(app, settings);
    const { port } = app.server.address() as AddressInfo;
    console.log(`Gateway listening on http://localhost:${port} (${boot.status === 'ok' ? 'migrations up to date' : 'degraded: see the warnings above'}; GET /health)`);
    shutdown.ready();
  } catch (error) {
    await database?.close().catch(() => {});
    if (error instanceof TributaryError) {
      console.error(`error: ${redactSecrets(error.message)}`);
      if (error.hint) console.error(redactSecrets(error.hint));
    } else {
      console.error(`error: the gateway failed to start: ${redactSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error))}`);
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
