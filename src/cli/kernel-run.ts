/**
 * Running a kernel from a CLI command: progress on the terminal, SIGINT/SIGTERM turn into an
 * interrupted run (a second signal leaves at once), and the exit code of an internal error.
 */
import type { Plan } from '../config/plan.js';
import type { Kernel } from '../kernel/kernel.js';
import type { RunReport } from '../observe/report.js';
import { attachProgress } from './render.js';
import { EXIT, type Io } from './run-command.js';

export async function runKernel(kernel: Kernel, plan: Plan, io: Io, opts: { quiet: boolean; json: boolean; reportFile?: string | undefined; extra?: (write: (l: string) => void) => () => void }): Promise<{ report: RunReport; signalled: NodeJS.Signals | undefined }> {
  process.title = `agentos-kernel run=${kernel.runId}`;
  const progress = opts.json ? io.err : io.out;
  const detach = opts.quiet ? () => {} : attachProgress(kernel.events, progress);
  const detachExtra = opts.quiet || !opts.extra ? () => {} : opts.extra(progress);
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) process.exit(sig === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
    signalled = sig;
    kernel.interrupt(sig);
  };
  const onRejection = (err: unknown): void => {
    kernel.fatalError = err;
    kernel.interrupt('unhandledRejection');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('unhandledRejection', onRejection);
  try {
    const report = await kernel.run(plan, opts.reportFile);
    return { report, signalled };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('unhandledRejection', onRejection);
    detach();
    detachExtra();
  }
}

/** The exit code for a run that ended by a signal or an internal error, else undefined. */
export function abnormalExit(kernel: Kernel, signalled: NodeJS.Signals | undefined, io: Io): number | undefined {
  if (kernel.fatalError) {
    io.err(`agentos: internal error, run stopped: ${(kernel.fatalError as Error)?.stack ?? String(kernel.fatalError)}`);
    return EXIT.internal;
  }
  if (signalled === 'SIGINT') return EXIT.sigint;
  if (signalled === 'SIGTERM') return EXIT.sigterm;
  return undefined;
}
