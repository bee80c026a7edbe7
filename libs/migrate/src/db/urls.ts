/**
 * Database URLs as Tributary accepts and shows them: PostgreSQL URLs only, and never a password
 * in anything printed (`postgres://user:***@host:5432/db`), whether a URL or a line that quotes one.
 */
import { TributaryError } from '../errors.ts';

const POSTGRES_PROTOCOLS = new Set(['postgres:', 'postgresql:']);
const MASK = '***';

/** The URL with its password replaced by `***` (user, host, port, database and options kept). */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = MASK;
    // A password in the query string (`?password=…`) is one too.
    for (const key of [...parsed.searchParams.keys()]) if (/pass/i.test(key)) parsed.searchParams.set(key, MASK);
    return parsed.toString();
  } catch {
    return redactSecrets(url);
  }
}

/** Every `scheme://user:password@` and `password=…` in `text` with the password masked. */
export function redactSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:)[^\s@/]*@/gi, `$1${MASK}@`)
    .replace(/\b(password|passwd|pgpassword)("?\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s&;,"]+)/gi, `$1$2${MASK}`);
}

/**
 * Parses a PostgreSQL URL from `variable` (e.g. `DATABASE_URL`), refusing, in one sentence, one
 * that is not a URL or names another database system.
 */
export function parsePostgresUrl(url: string, variable: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TributaryError(`${variable} is not a valid URL (expected postgres://user@host:port/database).`);
  }
  if (!POSTGRES_PROTOCOLS.has(parsed.protocol)) {
    throw new TributaryError(`${variable} must be a PostgreSQL URL (postgres://user@host:port/database), not ${maskUrl(url)}: Tributary migrates PostgreSQL only.`);
  }
  return parsed;
}
