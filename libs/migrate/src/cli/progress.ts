/**
 * Shows a batch of migrations as it runs: on a terminal, a listr2 task per migration that ends
 * ✔ with its duration or ✖; otherwise one plain line as each starts and as each ends.
 */
import { Listr } from 'listr2';
import { formatMs, interactive, print } from './output.ts';

export interface BatchProgress {
  /** The migrations the batch will run, in order (the terminal view lists them up front). */
  planned(names: string[]): void;
  started(name: string, index: number, total: number): void;
  finished(name: string, ms: number): void;
  /** A statement of `name` starts: the terminal view shows it under the task once it runs a while. */
  statement(name: string, sql: string): void;
  /** Runs `work`; if it fails, the running migration is marked ✖ before the error goes on. */
  around<T>(work: () => Promise<T>): Promise<T>;
}

/** `verb`: "Applying", "Reverting"…; `done`: "applied", "reverted"… */
export function batchProgress(verb: string, done: string, suffix = ''): BatchProgress {
  return interactive() ? new TaskList(suffix) : plainLines(verb, done, suffix);
}

function plainLines(verb: string, done: string, suffix: string): BatchProgress {
  // A migration sent in a round trip with others that failed is run again on its own: one line still.
  const told = new Set<string>();
  return {
    planned: () => {},
    started: (name, index, total) => {
      if (told.has(name)) return;
      told.add(name);
      print(`${verb} ${index + 1}/${total} ${name}${suffix}`);
    },
    finished: (name, ms) => print(`  ${done} ${name} (${formatMs(ms)})`),
    statement: () => {},
    around: (work) => work(),
  };
}

/** One listr2 task per migration; each ends when the runner says it finished (or failed). */
class TaskList implements BatchProgress {
  private readonly suffix: string;
  private readonly outcomes = new Map<string, PromiseWithResolvers<string>>();
  private running: Promise<unknown> | undefined;
  private current: string | undefined;
  private startedAt = performance.now();
  private readonly shown = new Map<string, { output: string }>();
  private slow: NodeJS.Timeout | undefined;

  constructor(suffix: string) {
    this.suffix = suffix;
  }

  planned(names: string[]): void {
    if (names.length === 0) return;
    for (const name of names) {
      const outcome = Promise.withResolvers<string>();
      outcome.promise.catch(() => {}); // listr2 shows the failure; not an unhandled rejection
      this.outcomes.set(name, outcome);
    }
    // Each task holds its outcome from the start: migrations sent together in one round trip
    // (see runPipelined) can all finish before listr2 reaches the second task.
    const tasks = names.map((name) => {
      const outcome = this.outcomes.get(name)!;
      return {
        title: `${name}${this.suffix}`,
        task: async (_ctx: unknown, task: { title: string; output: string }) => {
          this.shown.set(name, task);
          try {
            task.title = await outcome.promise;
          } catch (error) {
            task.title = (error as Error).message; // ✖ with how long it ran, as ✔ tasks show
            throw error;
          }
        },
      };
    });
    // A pseudo-terminal that reports no size (0 columns) would get one character per line.
    if (!process.stdout.columns) process.stdout.columns = 80;
    this.running = new Listr(tasks, { exitOnError: true, rendererOptions: { collapseErrors: false, showErrorMessage: false } }).run().catch(() => {});
  }

  started(name: string): void {
    this.current = name;
    this.startedAt = performance.now();
  }

  statement(name: string, sql: string): void {
    clearTimeout(this.slow);
    // Only a statement still running after a second is worth a line: most take milliseconds.
    this.slow = setTimeout(() => {
      const task = this.shown.get(name);
      if (task) task.output = `running: ${sql.replace(/\s+/g, ' ').slice(0, 100)}`;
    }, 1000);
    this.slow.unref();
  }

  finished(name: string, ms: number): void {
    clearTimeout(this.slow);
    this.outcomes.get(name)?.resolve(`${name}${this.suffix} (${formatMs(ms)})`);
    this.outcomes.delete(name);
    this.current = undefined;
  }

  async around<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      clearTimeout(this.slow);
      // A failure (or a refusal before the first one started): the first unfinished task ends ✖, listr2 stops.
      const unfinished = this.current ?? [...this.outcomes.keys()][0];
      const ran = unfinished === this.current ? ` (${formatMs(performance.now() - this.startedAt)})` : '';
      if (unfinished) this.outcomes.get(unfinished)!.reject(new Error(`${unfinished}${this.suffix}${ran}`));
      await this.running;
    }
  }
}
