/** `npm start`, the main job: apply pending migrations (embedded PGlite unless DATABASE_URL), then serve — in one process, on one database handle. */
import { serve } from './server.ts';

await serve({ autoMigrate: true });
