/** `agentos run`: validate everything (runs/prepare.ts), host the run with its watchers, print the summary. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KvStoreOptions } from '../kvcache/store.js';
import type { RunReport } from '../observe/report.js';
import { EXIT, runExit } from '../runs/exit-codes.js';
import { RunHost } from '../runs/host.js';
import type { Io } from '../runs/io.js';
import { prepareRun } from '../runs/prepare.js';
import { installSignals } from '../runs/signals.js';
import { startObservers, type Observers } from './observers.js';
import { summary } from './render.js';
import type { RunOptions } from './run-options.js';
import { controlWatcher, dashboardWatcher, progressWatcher } from './watchers.js';

export type { Io } from '../runs/io.js';
export { EXIT } from '../runs/exit-codes.js';

export async function runCommand(opts: RunOptions & { kv?: KvStoreOptions }, io: Io): Promise<{ code: number; report: RunReport }> {
  const { registry, plan } = prepareRun(opts);
  const progress = opts.json ? io.err : io.out;
  // URLs go with the progress lines: with --json, stdout carries only the report.
  const observers: Observers = await startObservers({ dashboard: opts.dashboard, metrics: opts.metrics, host: opts.host }, { out: progress, err: io.err }, () => host);
  const host: RunHost = new RunHost({
    registry,
    // Absolute: runs started from the dashboard page hand it to agents as $RUN_DIR/$WORK, and the sandbox
    // resolves a relative grant against the agent's own directory.
    runsDir: resolve(opts.runsDir),
    concurrency: opts.concurrency,
    sampleMs: opts.sampleMs,
    kv: opts.kv,
    watchers: [...(opts.quiet ? [] : [progressWatcher(progress)]), controlWatcher(io), dashboardWatcher(observers.dashboard, observers.metrics)],
    restoreTitle: observers.dashboard !== undefined,
  });
  const signals = installSignals((sig) => host.interrupt(sig));
  const onRejection = (err: unknown): void => {
    const k = host.active?.kernel;
    if (k) {
      k.fatalError = err;
      k.interrupt('unhandledRejection');
    }
  };
  process.on('unhandledRejection', onRejection);
  let report: RunReport;
  let fatal: unknown;
  try {
    // The journal's header keeps the plan file (its hash refuses a resume after a change) and --inject.
    const run = await host.start(plan, opts.injections, opts.report, { journal: { planFile: resolve(opts.plan), options: { injections: opts.injections } } });
    const early = signals.signalled();
    if (early) run.kernel.interrupt(early); // signalled while the kernel was being set up
    report = await run.done;
    fatal = run.kernel.fatalError;
    // The report as written (large outputs spilled to the run's outputs/): never one huge string here.
    if (opts.json) io.out(readFileSync(join(report.run_dir, 'report.json'), 'utf8').trimEnd());
    else if (!opts.quiet) for (const line of summary(report)) io.out(line);
    if (observers.dashboard && !signals.signalled() && !fatal) {
      // The page stays up to inspect the run (and start more from it) until Ctrl-C.
      progress(`dashboard still serving at ${observers.dashboard.url} (Ctrl-C to stop)`);
      await signals.waitForSignal;
      const later = host.active;
      if (later) await later.done.catch(() => undefined);
    }
  } finally {
    signals.remove();
    process.off('unhandledRejection', onRejection);
    await observers.close();
  }
  if (fatal) {
    io.err(`agentos: internal error, run stopped: ${(fatal as Error)?.stack ?? String(fatal)}`);
    return { code: EXIT.internal, report };
  }
  // A signal while only the dashboard lingered ends the command normally: the run itself finished.
  return { code: runExit(report, signals.signalled()), report };
}
