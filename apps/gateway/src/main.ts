/** `npm run serve`: the gateway alone, as production runs it; the boot check honours MIGRATIONS_STRICT and AUTO_MIGRATE. */
import { serve } from './server.ts';

await serve();
