/**
 * Running one kernel to its report: an AbortSignal interrupts the run (it still writes its report),
 * an unhandled rejection anywhere becomes the kernel's fatal error (exit 70), and every handler added
 * is removed at the end. No process-wide signal handler is installed here: the CLI turns SIGINT/SIGTERM
 * into an abort (signals.ts); embedded callers pass their own signal.
 */
import type { Plan } from '../config/plan.js';
import type { Kernel } from '../kernel/kernel.js';
import type { RunReport } from '../observe/report.js';
import { EXIT, signalExit } from './exit-codes.js';
import type { Io } from './io.js';

export interface RunKernelOptions {
  /** Aborting interrupts the run; the abort reason (a signal name) is the interrupt reason. */
  signal?: AbortSignal | undefined;
  /** Also write the report there. */
  reportFile?: string | undefined;
}

/** Run the plan to its report. Resolves (never rejects for a task's failure) once every process is gone. */
export async function runKernel(kernel: Kernel, plan: Plan, o: RunKernelOptions = {}): Promise<RunReport> {
  process.title = `agentos-kernel run=${kernel.runId}`;
  const onAbort = (): void => kernel.interrupt(String(o.signal?.reason ?? 'aborted'));
  const onRejection = (err: unknown): void => {
    kernel.fatalError = err;
    kernel.interrupt('unhandledRejection');
  };
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  process.on('unhandledRejection', onRejection);
  try {
    return await kernel.run(plan, o.reportFile);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    process.off('unhandledRejection', onRejection);
  }
}

/** The exit code for a run that ended by a signal or an internal error (said on `io.err`), else undefined. */
export function abnormalExit(kernel: Kernel, signalled: NodeJS.Signals | undefined, io: Io): number | undefined {
  if (kernel.fatalError) {
    io.err(`agentos: internal error, run stopped: ${(kernel.fatalError as Error)?.stack ?? String(kernel.fatalError)}`);
    return EXIT.internal;
  }
  return signalExit(signalled);
}
