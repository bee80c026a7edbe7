/**
 * The gateway's settings from the environment: `PORT` (default 3000; 0 picks a free port),
 * `HOST` (default 0.0.0.0), `MIGRATIONS_STRICT` and `AUTO_MIGRATE`. A bad value is one sentence
 * naming the variable.
 */
import { TributaryError } from '@tributary/migrate/boot';

export interface GatewaySettings {
  port: number;
  host: string;
  strict: boolean;
  autoMigrate: boolean;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): GatewaySettings {
  return {
    port: port(env.PORT),
    host: env.HOST || '0.0.0.0',
    strict: flag('MIGRATIONS_STRICT', env.MIGRATIONS_STRICT),
    autoMigrate: flag('AUTO_MIGRATE', env.AUTO_MIGRATE),
  };
}

function port(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535) throw new TributaryError(`PORT must be a port number from 0 to 65535 (0 picks a free one), not "${value}".`);
  return n;
}

function flag(name: string, value: string | undefined): boolean {
  const normalized = (value ?? '').trim().toLowerCase();
  if (['', '0', 'false', 'no', 'off'].includes(normalized)) return false;
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  throw new TributaryError(`${name} must be true or false, not "${value}".`);
}
