/** `agentos stress`: run the stress workload, show progress, print and write the report. */
import type { Kernel } from '../kernel/kernel.js';
import type { StressOptions } from '../stress/options.js';
import { writeJsonFile, type StressReport } from '../stress/report.js';
import { runStress } from '../stress/run-stress.js';
import { EXIT, signalExit } from '../runs/exit-codes.js';
import type { Io } from '../runs/io.js';
import { installSignals } from '../runs/signals.js';

export function stressSummary(r: StressReport): string[] {
  const l = r.latency_ms;
  return [
    '',
    `${r.agents} agents, ${r.tasks} tasks, fault rate ${r.fault_rate} (${r.faults_injected} faults injected: ${r.faults.join(', ')})`,
    `  succeeded ${r.succeeded}, failed ${r.failed}; ${r.attempts} attempts, ${r.retries} retries, ${r.restarts} restarts; failures ${JSON.stringify(r.failures_by_kind)}`,
    `  latency ms p50 ${l.p50} p95 ${l.p95} p99 ${l.p99} max ${l.max}; throughput ${r.throughput_per_s} tasks/s; all ${r.agents} ready in ${r.spawn_all_ready_ms} ms`,
    `  peak RSS MB: kernel ${r.peak_rss_mb.kernel}, agents total ${r.peak_rss_mb.agents_total}, per agent median ${r.peak_rss_mb.per_agent_median} (bare node child ${r.bare_node_child_rss_mb}, x${r.per_agent_rss_vs_bare})`,
    `  CPU ${r.cpu_seconds} s (kernel ${r.cpu_seconds_detail.kernel}, agents ${r.cpu_seconds_detail.agents}; kernel ${r.kernel_cpu_us_per_task} us per task while dispatching); orphans ${r.orphans}`,
    `  run dir ${r.run_dir}`,
  ];
}

export async function stressCommand(opts: StressOptions, io: Io): Promise<number> {
  const write = opts.json ? io.err : io.out;
  const tty = !opts.json && process.stdout.isTTY === true;
  const progress = opts.quiet
    ? undefined
    : (text: string, final: boolean): void => {
        if (tty) process.stdout.write(`\r${text}\u001b[K${final ? '\n' : ''}`);
        else write(text);
      };
  let kernel: Kernel | undefined;
  const signals = installSignals((sig) => kernel?.interrupt(sig));
  let report: StressReport;
  try {
    ({ report, kernel } = await runStress(opts, { progress, onKernel: (k) => (kernel = k) }));
  } finally {
    signals.remove();
  }
  const signalled = signals.signalled();
  if (opts.report) writeJsonFile(opts.report, report);
  if (opts.json) io.out(JSON.stringify(report, null, 2));
  else if (!opts.quiet) for (const line of stressSummary(report)) io.out(line);
  if (kernel.fatalError) {
    io.err(`agentos: internal error, stress run stopped: ${(kernel.fatalError as Error)?.stack ?? String(kernel.fatalError)}`);
    return EXIT.internal;
  }
  if (signalled) return signalExit(signalled) ?? EXIT.sigterm;
  return report.failed === 0 && report.orphans === 0 ? EXIT.ok : EXIT.failed;
}
