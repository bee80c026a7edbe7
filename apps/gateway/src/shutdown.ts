/**
 * Graceful shutdown on SIGTERM/SIGINT: once the gateway serves, a signal closes what was
 * registered (server first, then the database) and exits 0. A signal during boot — possibly in
 * the middle of applying a migration — is held until boot finishes, never cutting a step short.
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
  let signal: NodeJS.Signals | undefined;
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
  const onSignal = (received: NodeJS.Signals) => {
    if (signal) return;
    signal = received;
    if (serving) void close();
    else console.error(`${received}: stopping once the current startup step is done…`);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

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
