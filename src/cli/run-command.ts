/** `agentos run`: validate everything, run the plan in a kernel, print progress and the summary. */
import { BUILTIN_AGENTS } from '../paths.js';
import { loadPlanFile } from '../config/plan.js';
import { AgentRegistry } from '../config/registry.js';
import { InputError } from '../errors.js';
import { Kernel } from '../kernel/kernel.js';
import type { RunReport } from '../observe/report.js';
import type { KvStoreOptions } from '../kvcache/store.js';
import { attachProgress, summary } from './render.js';
import type { RunOptions } from './run-options.js';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const EXIT = { ok: 0, failed: 1, input: 2, internal: 70, sigint: 130, sigterm: 143 } as const;

/** Everything that can be wrong with the input is found here, before any process starts. */
export function prepareRun(opts: Pick<RunOptions, 'plan' | 'agents' | 'injections'>) {
  const registry = new AgentRegistry([BUILTIN_AGENTS, ...opts.agents]);
  const plan = loadPlanFile(opts.plan, registry);
  for (const inj of opts.injections) {
    if (!registry.has(inj.agent)) throw new InputError('E_UNKNOWN_AGENT', `--inject names unknown agent '${inj.agent}' (known: ${registry.names().join(', ')}).`);
  }
  return { registry, plan };
}

export async function runCommand(opts: RunOptions & { kv?: KvStoreOptions }, io: Io): Promise<{ code: number; report: RunReport }> {
  const { registry, plan } = prepareRun(opts);
  const kernel = new Kernel({
    registry,
    runsDir: opts.runsDir,
    concurrency: opts.concurrency,
    injections: opts.injections,
    sampleIntervalMs: opts.sampleMs,
    ...(opts.kv ? { kv: opts.kv } : {}),
  });
  process.title = `agentos-kernel run=${kernel.runId}`;
  const progress = opts.json ? io.err : io.out;
  const detach = opts.quiet ? () => {} : attachProgress(kernel.events, progress);

  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) {
      // Second signal: leave now; the reaper ends whatever is still running.
      process.exit(sig === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
    }
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
  let report: RunReport;
  try {
    report = await kernel.run(plan, opts.report);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('unhandledRejection', onRejection);
    detach();
  }
  if (opts.json) io.out(JSON.stringify(report, null, 2));
  else if (!opts.quiet) for (const line of summary(report)) io.out(line);
  if (kernel.fatalError) {
    io.err(`agentos: internal error, run stopped: ${(kernel.fatalError as Error)?.stack ?? String(kernel.fatalError)}`);
    return { code: EXIT.internal, report };
  }
  const code = signalled === 'SIGINT' ? EXIT.sigint : signalled === 'SIGTERM' ? EXIT.sigterm : report.status === 'succeeded' ? EXIT.ok : EXIT.failed;
  return { code, report };
}
