/**
 * The gateway's settings from the environment: `PORT` (default 3000; 0 picks a free port),
 * `HOST` (default 0.0.0.0), `DB_POOL_MAX` (its ORM's pool size, default 10), `MIGRATIONS_STRICT`,
 * `AUTO_MIGRATE`, and whether `/migrations` is served (not when `NODE_ENV=production` unless
 * `MIGRATIONS_PAGE=true`). A bad value is one sentence naming the variable.
 */
import { TributaryError } from '@tributary/migrate/boot';

export interface GatewaySettings {
  port: number;
  host: string;
  /** Most connections the gateway's ORM opens (the boot check borrows one of them). */
  poolMax: number;
  strict: boolean;
  autoMigrate: boolean;
  /** Serve the read-only `/migrations` page. */
  migrationsPage: boolean;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): GatewaySettings {
  const settings = {
    port: port(env.PORT),
    host: env.HOST || '0.0.0.0',
    poolMax: poolSize(env.DB_POOL_MAX),
    strict: flag('MIGRATIONS_STRICT', env.MIGRATIONS_STRICT),
    autoMigrate: flag('AUTO_MIGRATE', env.AUTO_MIGRATE),
    // The page names every migration and service: in production only when asked for.
    migrationsPage: env.MIGRATIONS_PAGE === undefined || env.MIGRATIONS_PAGE === '' ? env.NODE_ENV !== 'production' : flag('MIGRATIONS_PAGE', env.MIGRATIONS_PAGE),
  };
  // Migrating on the app's own pool holds one connection for the lock and needs another to work with.
  if (settings.autoMigrate && settings.poolMax < 2 && env.DATABASE_URL && !env.MIGRATION_DATABASE_URL) {
    throw new TributaryError(`DB_POOL_MAX must be at least 2 with AUTO_MIGRATE=true (the migration lock holds one connection of the pool while another applies), not ${settings.poolMax}; or set MIGRATION_DATABASE_URL.`);
  }
  return settings;
}

function port(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535) throw new TributaryError(`PORT must be a port number from 0 to 65535 (0 picks a free one), not "${value}".`);
  return n;
}

function poolSize(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 10;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new TributaryError(`DB_POOL_MAX must be a whole number of connections of at least 1, not "${value}".`);
  return Number(value);
}

function flag(name: string, value: string | undefined): boolean {
  const normalized = (value ?? '').trim().toLowerCase();
  if (['', '0', 'false', 'no', 'off'].includes(normalized)) return false;
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  throw new TributaryError(`${name} must be true or false, not "${value}".`);
}
