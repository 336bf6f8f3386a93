/**
 * SIGINT/SIGTERM for a whole command: the first interrupts the current run (which still writes its
 * report); a second leaves at once (the reaper ends the children). Every handler added is removed by
 * `remove()`. Embedded use installs none: a run honours an AbortSignal instead (run-kernel.ts), and
 * `abortOn` turns process signals into an abort for the CLI.
 */
import { EXIT } from './exit-codes.js';

export interface InstalledSignals {
  /** The first signal received, if any. */
  signalled(): NodeJS.Signals | undefined;
  /** Resolves on the first signal. */
  waitForSignal: Promise<NodeJS.Signals>;
  remove(): void;
}

export function installSignals(onFirst: (sig: NodeJS.Signals) => void): InstalledSignals {
  let signalled: NodeJS.Signals | undefined;
  let wake: (s: NodeJS.Signals) => void = () => {};
  const waitForSignal = new Promise<NodeJS.Signals>((resolve) => (wake = resolve));
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) process.exit(sig === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
    signalled = sig;
    onFirst(sig);
    wake(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signalled: () => signalled,
    waitForSignal,
    remove: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Process signals abort `ctl` (reason: the signal name). */
export function abortOn(ctl: AbortController): InstalledSignals {
  return installSignals((sig) => ctl.abort(sig));
}
