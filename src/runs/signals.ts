/**
 * SIGINT, SIGTERM and SIGHUP for a whole command (SIGHUP: the terminal closed, an ssh session dropped -
 * handled like SIGTERM, exit 129). The first interrupts the current run, which ends its agents and writes
 * its report; the second is passed on too (`Kernel.interrupt` again: every agent SIGKILLed at once, the
 * report still written); the third leaves at once - the reaper ends the agents and, finding no report,
 * writes a `kernel_lost` one. Every handler added is removed by `remove()`. Embedded use installs none: a
 * run honours an AbortSignal instead (run-kernel.ts), and `abortOn` turns process signals into an abort.
 */
import { signalExit } from './exit-codes.js';

export interface InstalledSignals {
  /** The first signal received, if any. */
  signalled(): NodeJS.Signals | undefined;
  /** Resolves on the first signal. */
  waitForSignal: Promise<NodeJS.Signals>;
  remove(): void;
}

/** The signals a command handles. */
export const HANDLED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * `onSignal(sig, n)` is called for the first and second signal (n = 1, 2); without `passSecond` the
 * second leaves at once like the third (for commands with nothing to force).
 */
export function installSignals(onSignal: (sig: NodeJS.Signals, n: number) => void, passSecond = true): InstalledSignals {
  let signalled: NodeJS.Signals | undefined;
  let count = 0;
  let wake: (s: NodeJS.Signals) => void = () => {};
  const waitForSignal = new Promise<NodeJS.Signals>((resolve) => (wake = resolve));
  const onSignal_ = (sig: NodeJS.Signals): void => {
    count++;
    if (count >= 3 || (count === 2 && !passSecond)) process.exit(signalExit(signalled ?? sig) ?? 1);
    if (sig === 'SIGHUP') quietClosedTerminal();
    if (count === 1) {
      signalled = sig;
      onSignal(sig, 1);
      wake(sig);
    } else onSignal(sig, count);
  };
  for (const s of HANDLED_SIGNALS) process.on(s, onSignal_);
  return {
    signalled: () => signalled,
    waitForSignal,
    remove: () => {
      for (const s of HANDLED_SIGNALS) process.off(s, onSignal_);
    },
  };
}

let quieted = false;
/** A closed terminal fails writes to stdout/stderr (EIO, EPIPE): that must not turn into a fatal error. */
function quietClosedTerminal(): void {
  if (quieted) return;
  quieted = true;
  for (const s of [process.stdout, process.stderr]) s.on('error', () => {});
}

/** Process signals abort `ctl` (reason: the signal name); a second goes to `again` if given, else leaves at once. */
export function abortOn(ctl: Pick<AbortController, 'abort'>, again?: (sig: NodeJS.Signals) => void): InstalledSignals {
  return installSignals((sig, n) => (n === 1 ? ctl.abort(sig) : again?.(sig)), again !== undefined);
}
