/**
 * Graceful shutdown on SIGTERM/SIGINT, or when the process that started the gateway is gone: once
 * the gateway serves, either closes what was registered (server first, then the database) and
 * exits 0. A stop during boot — possibly in the middle of applying a migration — is held until boot
 * finishes, never cutting a step short.
 */
export interface Shutdown {
  /** Registers something to close; the last registered closes first. */
  closeLater(close: () => Promise<void>): void;
  /** Boot is over: honour a signal that came during it, and close on any later one. */
  ready(): void;
  /** True once a signal came. */
  readonly requested: boolean;
}

export function shutdownOnSignals(): Shutdown {
  const closers: Array<() => Promise<void>> = [];
  /** What asked to stop: the signal's name, or that the parent is gone. */
  let signal: string | undefined;
  let serving = false;
  let closing = false;

  const close = async () => {
    if (closing) return;
    closing = true;
    console.error(`${signal}: closing the server and the database…`);
    try {
      for (const closer of closers.reverse()) await closer();
      process.exit(0);
    } catch (error) {
      console.error('error: shutdown failed:', error);
      process.exit(1);
    }
  };
  const onSignal = (received: string) => {
    if (signal) return;
    signal = received;
    if (serving) void close();
    else console.error(`${received}: stopping once the current startup step is done…`);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  stopWhenOrphaned(() => onSignal('the parent process is gone'));

  return {
    closeLater: (closer) => closers.push(closer),
    ready: () => {
      serving = true;
      if (signal) void close();
    },
    get requested() {
      return signal !== undefined;
    },
  };
}

/** How often the gateway looks whether its parent is still there. */
const PARENT_CHECK_MS = 200;

/**
 * A process manager stopping `npm start` signals npm alone; npm passes the signal to the shell
 * running the script, which dies of it without passing it on, and the gateway would be left
 * running, holding the port and the database. It notices instead: its parent changed (it was
 * re-parented to init or a subreaper), so it stops as on SIGTERM, and says why.
 */
function stopWhenOrphaned(stop: () => void): void {
  const parent = process.ppid;
  if (parent <= 1) return; // started by init itself (a container's command, a daemon): nothing to outlive
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    // A signal to the whole group kills the shell too: let that signal, already on its way, be the reason.
    setTimeout(stop, PARENT_CHECK_MS);
  }, PARENT_CHECK_MS);
  timer.unref();
}
