/** Exit codes of every command that runs something: 0 ok, 1 a task failed, 2 bad input, 70 internal error, 129/130/143 signals (128 + number). */
import type { RunReport } from '../observe/report.js';

export const EXIT = { ok: 0, failed: 1, input: 2, internal: 70, sighup: 129, sigint: 130, sigterm: 143 } as const;

/** The exit code of a signal, if it is one we handle. */
export function signalExit(sig: NodeJS.Signals | undefined): number | undefined {
  if (sig === 'SIGINT') return EXIT.sigint;
  if (sig === 'SIGTERM') return EXIT.sigterm;
  if (sig === 'SIGHUP') return EXIT.sighup;
  return undefined;
}

/** A finished run's exit code: interrupted by a signal -> 129/130/143, else succeeded -> 0, else 1. */
export function runExit(report: RunReport, signalled: NodeJS.Signals | undefined): number {
  const sig = report.status === 'interrupted' ? signalExit(signalled) : undefined;
  return sig ?? (report.status === 'succeeded' ? EXIT.ok : EXIT.failed);
}
