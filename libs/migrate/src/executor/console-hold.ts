/**
 * Holds back what user code prints through `console` while it runs, and puts the console back
 * afterwards whatever happens: reading a migration's SQL must not print its logs, and a run that
 * starts a migration twice prints them once.
 */
const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table', 'group', 'groupCollapsed', 'groupEnd'] as const;

type Method = (typeof METHODS)[number];

export type Held<T> = ({ ok: true; value: T } | { ok: false; error: unknown }) & {
  /** Prints what was held back, in order, as it would have been printed. */
  replay(): void;
};

export async function holdingConsole<T>(fn: () => Promise<T>): Promise<Held<T>> {
  const saved = new Map<Method, (...args: unknown[]) => void>();
  const calls: Array<[Method, unknown[]]> = [];
  for (const method of METHODS) {
    saved.set(method, console[method] as (...args: unknown[]) => void);
    console[method] = (...args: unknown[]) => void calls.push([method, args]);
  }
  const replay = () => {
    for (const [method, args] of calls) saved.get(method)!.apply(console, args);
  };
  try {
    return { ok: true, value: await fn(), replay };
  } catch (error) {
    return { ok: false, error, replay };
  } finally {
    for (const [method, original] of saved) console[method] = original as any;
  }
}

/** Runs `fn` with its console output dropped; its result or error as if run plainly. */
export async function silently<T>(fn: () => Promise<T>): Promise<T> {
  const held = await holdingConsole(fn);
  if (!held.ok) throw held.error;
  return held.value;
}
