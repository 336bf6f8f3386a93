/** Part 1: `agentos stress` at N agents x R fault rates, the same workload in every cell. */
import type { StressReport } from '../src/stress/report.js';
import { runStressCli, stressCommandLine } from './lib/agentos.js';

export interface StressCell {
  agents: number;
  fault_rate: number;
  command: string;
  exit_code: number;
  report: StressReport;
}

export async function runStressMatrix(o: { agents: number[]; rates: number[]; tasks: number; runsDir: string; log: (s: string) => void }): Promise<StressCell[]> {
  const cells: StressCell[] = [];
  for (const rate of o.rates) {
    for (const n of o.agents) {
      const args = { agents: n, tasks: o.tasks, faultRate: rate, runsDir: o.runsDir };
      const { report, exitCode } = await runStressCli(args);
      cells.push({ agents: n, fault_rate: rate, command: stressCommandLine(args), exit_code: exitCode, report });
      o.log(`  stress N=${n} R=${rate}: ${report.succeeded}/${report.tasks} ok, p50 ${report.latency_ms.p50} ms, ${report.throughput_per_s}/s, ready ${report.spawn_all_ready_ms} ms, kernel ${report.peak_rss_mb.kernel} MB, orphans ${report.orphans}`);
    }
  }
  return cells;
}
