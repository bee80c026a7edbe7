/** `npm run serve`: the gateway alone, as production runs it; the boot check honours MIGRATIONS_STRICT and AUTO_MIGRATE. */
import { loadServer } from './load-server.ts';

const serve = await loadServer();
await serve?.();
