/** `agentos run`: validate everything, run the plan in a kernel, print progress and the summary. */
import { resolve } from 'node:path';
import { BUILTIN_AGENTS } from '../paths.js';
import { loadPlanFile } from '../config/plan.js';
import { AgentRegistry } from '../config/registry.js';
import { InputError } from '../errors.js';
import type { RunReport } from '../observe/report.js';
import type { KvStoreOptions } from '../kvcache/store.js';
import { summary } from './render.js';
import type { RunOptions } from './run-options.js';
import { RunHost } from './run-host.js';
import { startObservers, type Observers } from './observers.js';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const EXIT = { ok: 0, failed: 1, input: 2, internal: 70, sigint: 130, sigterm: 143 } as const;

/** Everything that can be wrong with the input is found here, before any process starts. */
export function prepareRun(opts: Pick<RunOptions, 'plan' | 'agents' | 'injections' | 'maxPlanTasks' | 'maxPlanBytes'>) {
  const registry = new AgentRegistry([BUILTIN_AGENTS, ...opts.agents]);
  const plan = loadPlanFile(opts.plan, registry, { maxTasks: opts.maxPlanTasks, maxBytes: opts.maxPlanBytes });
  for (const inj of opts.injections) {
    if (!registry.has(inj.agent)) throw new InputError('E_UNKNOWN_AGENT', `--inject names unknown agent '${inj.agent}' (known: ${registry.names().join(', ')}).`);
  }
  return { registry, plan };
}

/**
 * SIGINT/SIGTERM for the whole command: the first interrupts the current run (which still writes its
 * report) and ends any lingering dashboard; a second leaves at once (the reaper ends the children).
 */
export function installSignals(onFirst: (sig: NodeJS.Signals) => void): { signalled: () => NodeJS.Signals | undefined; waitForSignal: Promise<NodeJS.Signals>; remove: () => void } {
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

export async function runCommand(opts: RunOptions & { kv?: KvStoreOptions }, io: Io): Promise<{ code: number; report: RunReport }> {
  const { registry, plan } = prepareRun(opts);
  const progress = opts.json ? io.err : io.out;
  // URLs go with the progress lines: with --json, stdout carries only the report.
  const observers: Observers = await startObservers({ dashboard: opts.dashboard, metrics: opts.metrics, host: opts.host }, { out: progress, err: io.err }, () => host);
  // Absolute: runs started from the dashboard page hand it to agents as $RUN_DIR/$WORK, and the sandbox
  // resolves a relative grant against the agent's own directory.
  const host: RunHost = new RunHost(
    { registry, runsDir: resolve(opts.runsDir), concurrency: opts.concurrency, sampleMs: opts.sampleMs, progress: opts.quiet ? undefined : progress, dashboard: observers.dashboard, metrics: observers.metrics, kv: opts.kv },
    io,
  );
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
    const run = await host.start(plan, opts.injections, opts.report);
    const early = signals.signalled();
    if (early) run.kernel.interrupt(early); // signalled while the kernel was being set up
    report = await run.done;
    fatal = run.kernel.fatalError;
    if (opts.json) io.out(JSON.stringify(report, null, 2));
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
  const sig = report.status === 'interrupted' ? signals.signalled() : undefined;
  const code = sig === 'SIGINT' ? EXIT.sigint : sig === 'SIGTERM' ? EXIT.sigterm : report.status === 'succeeded' ? EXIT.ok : EXIT.failed;
  return { code, report };
}
