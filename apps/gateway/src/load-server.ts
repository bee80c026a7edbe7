/**
 * Loads the gateway's server module, which imports every registered service. A service added
 * with `nx g @tributary/migrate:service` is importable only once `npm install` has linked its
 * package: until then, say that in one sentence rather than with Node's stack trace.
 */
import type { serve } from './server.ts';

export async function loadServer(): Promise<typeof serve | undefined> {
  try {
    return (await import('./server.ts')).serve;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && /'(@tributary\/[^/']+)/.exec((error as Error).message)?.[1];
    if (!missing) throw error;
    console.error(`error: the gateway imports ${missing}, which is not installed in node_modules yet (a service added since the last install): run \`npm install\`, then start again.`);
    process.exitCode = 1;
    return undefined;
  }
}
