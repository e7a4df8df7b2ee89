/**
 * SIGINT/SIGTERM -> AbortController, with one meaning everywhere: the first
 * signal aborts the run (the library sees a cancelled AbortSignal and winds
 * down); a second one leaves at once. Library code never touches process
 * signals: only commands open a scope.
 */

/** The exit status a shell reports for a process ended by the signal. */
export const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

export interface SignalScope {
  /** Aborted by the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  readonly received: NodeJS.Signals | undefined;
  /** Stops listening; call it in a finally. */
  dispose(): void;
}

export interface SignalScopeOptions {
  /** After the abort of the first signal: e.g. a deadline for work that cannot be cancelled. */
  onFirst?: (sig: NodeJS.Signals) => void;
  /** Before leaving on a second signal: e.g. removing temporary files. */
  beforeExit?: () => void;
}

/** Listens for SIGINT and SIGTERM until disposed; see the module comment for what they do. */
export function abortOnSignals(opts: SignalScopeOptions = {}): SignalScope {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (received) {
      opts.beforeExit?.();
      process.exit(SIGNAL_EXIT[sig] ?? 1);
    }
    received = sig;
    controller.abort();
    opts.onFirst?.(sig);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
