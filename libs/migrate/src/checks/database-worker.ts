/**
 * Runs `check`'s database part (history against the stream, lint of pending migrations, drift,
 * deletable squashed files) against a PostgreSQL server in a worker thread, with the answers it
 * gives in-process: the models' loading and MikroORM's discovery hold the main thread for seconds
 * without a pause, so in-process the database part could only start once they were done.
 */
import { enableCompileCache } from 'node:module';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { TributaryConfig } from '../config/config.ts';
import { TributaryError } from '../errors.ts';
import { adoptStreamStamps, readStreamCached, streamStamps, withOneStreamRead, type StreamStamps } from '../stream/stream-cache.ts';
import type { CheckOptions, DatabasePart } from './check.ts';

/** The key of this module's job in `workerData` (a test runner's own worker threads carry other data). */
const JOB = 'tributaryCheckDatabase';

const YOUNG_GENERATION_MB = 8;

/** An error as it crosses threads: enough to throw the same kind, message and hint again. */
interface SentError {
  tributary: boolean;
  name: string;
  message: string;
  hint?: string;
  stack?: string;
}

/** The database part in a worker thread; rejects as it would in-process. */
export function databasePartInWorker(config: TributaryConfig, options: CheckOptions): Promise<DatabasePart> {
  return new Promise((resolve, reject) => {
    // A small young generation: V8's default adds ~80 MB of peak memory to the process for the same time.
    // Callbacks (`onNote`) stay here: the database part has nothing to tell through them.
    const data = Object.fromEntries(Object.entries(options).filter(([, value]) => typeof value !== 'function'));
    const worker = new Worker(workerEntry(), { workerData: { [JOB]: { config, options: data } }, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    // The stream, read here while the worker starts, is read once for both threads: the worker
    // only stats each file (see stream-cache.ts). Unreadable here, the worker reads it itself.
    let stamps: StreamStamps = [];
    try {
      readStreamCached(config.migrationsDir);
      stamps = streamStamps(config.migrationsDir);
    } catch {}
    worker.postMessage({ stamps });
    let answered = false;
    worker.once('message', (message: { result?: DatabasePart; error?: SentError }) => {
      answered = true;
      worker.unref(); // closing its connections never holds the command back
      if (message.error) reject(revived(message.error));
      else resolve(message.result!);
    });
    worker.once('error', (error) => {
      answered = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`check: the worker thread of the database part stopped (exit code ${code}) without an answer.`));
    });
  });
}

/** Where the worker starts: the source's JavaScript entry (compile cache first), or this module when built. */
function workerEntry(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('./database-worker.entry.js', import.meta.url) : new URL(import.meta.url);
}

/** The database part in this thread (the embedded database, opened by one process and thread at a time). */
export async function databasePart(config: TributaryConfig, options: CheckOptions): Promise<DatabasePart> {
  const [{ withDatabase }, { checkDatabasePart }] = await Promise.all([import('../db/connection.ts'), import('./check.ts')]);
  return withDatabase(config, (db) => checkDatabasePart(db, config, options));
}

function sent(error: unknown): SentError {
  if (!(error instanceof Error)) return { tributary: false, name: 'Error', message: String(error) };
  return { tributary: error instanceof TributaryError, name: error.name, message: error.message, hint: (error as TributaryError).hint, stack: error.stack };
}

function revived(error: SentError): Error {
  const again = error.tributary ? new TributaryError(error.message, { hint: error.hint }) : new Error(error.message);
  again.name = error.name;
  if (error.stack) again.stack = error.stack;
  return again;
}

/** The worker's side: answers once, with the result or the error. */
async function answer({ config, options }: { config: TributaryConfig; options: CheckOptions }): Promise<void> {
  enableCompileCache?.();
  try {
    const { stamps } = await new Promise<{ stamps: StreamStamps }>((resolve) => parentPort!.once('message', resolve));
    adoptStreamStamps(config.migrationsDir, stamps);
    parentPort!.postMessage({ result: await withOneStreamRead(() => databasePart(config, options)) });
  } catch (error) {
    parentPort!.postMessage({ error: sent(error) });
  }
}

// No top-level await: Nx loads executors, and this module with them, through require().
if (!isMainThread && workerData?.[JOB]) void answer(workerData[JOB]);
