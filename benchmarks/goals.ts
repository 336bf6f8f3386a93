/**
 * The goals of issue 14 (dispatch at the limit of the hardware), each read from one `npm run bench` run's
 * results: the figure, the yardstick it is divided by (a peer or the raw floor measured in the same run),
 * the ratio and the verdict. bench.ts prints them; markdown.ts puts them first in docs/benchmarks.md.
 */
import type { DispatchRow } from './peers.js';
import type { StressCell } from './stress-matrix.js';

export interface GoalRow {
  figure: string;
  measured: string;
  /** The figure divided by its yardstick (or the figure itself for absolute goals). */
  ratio: number | null;
  goal: string;
  verdict: 'met' | 'missed' | 'not measured';
}

type Kernel = Record<string, unknown> & { ratios?: Record<string, number | null>; pm2?: { crash_to_ready_ms: number | null; version: string | null; skipped: string | null } };

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const r2 = (x: number | null, d = 2): number | null => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);
const div = (a: number | null, b: number | null): number | null => (a === null || b === null || b === 0 ? null : a / b);
const verdict = (x: number | null, ok: (x: number) => boolean): GoalRow['verdict'] => (x === null ? 'not measured' : ok(x) ? 'met' : 'missed');
const v = (x: number | null | undefined, unit = ''): string => (x === null || x === undefined ? 'n/a' : `${x}${unit}`);

export function issue14Goals(o: { kernel?: Kernel | undefined; dispatch?: DispatchRow[] | undefined; cells?: StressCell[] | undefined }): GoalRow[] {
  const rows: GoalRow[] = [];
  const k = o.kernel ?? {};
  const find = (system: string, label: string): DispatchRow | undefined => o.dispatch?.find((d) => d.system === system && d.what_ran.startsWith(label));
  const aNoop = find('AgentOS', 'no-op');
  const pNoop = find('Piscina', 'no-op');

  const tp = div(aNoop?.throughput_per_s ?? null, pNoop?.throughput_per_s ?? null);
  rows.push({ figure: 'no-op throughput, 2 agents vs Piscina 2 threads', measured: `${v(aNoop?.throughput_per_s)} vs ${v(pNoop?.throughput_per_s)} tasks/s (${v(aNoop?.tasks)} tasks)`, ratio: r2(tp), goal: '>= x1.0', verdict: verdict(tp, (x) => x >= 1) });

  const rtt = div(num(k.task_rtt_us), num(k.raw_ipc_rtt_us));
  rows.push({ figure: 'serial no-op task round trip vs raw IPC round trip', measured: `${v(num(k.task_rtt_us))} vs ${v(num(k.raw_ipc_rtt_us))} us (median)`, ratio: r2(rtt), goal: '<= x1.3', verdict: verdict(rtt, (x) => x <= 1.3) });

  const cpu = aNoop?.kernel_cpu_us_per_task ?? null;
  rows.push({ figure: 'kernel CPU per no-op task (process.cpuUsage, dispatch phase)', measured: `${v(cpu, ' us')} over ${v(aNoop?.tasks)} tasks`, ratio: cpu, goal: '<= 25 us', verdict: (aNoop?.tasks ?? 0) < 20_000 ? 'not measured' : verdict(cpu, (x) => x <= 25) });

  const fork = div(num(k.agent_fork_ready_ms), num(k.bare_fork_ready_ms));
  const off = div(num(k.agent_fork_ready_uncontained_ms), num(k.bare_fork_ready_ms));
  rows.push({ figure: 'agent spawn -> ready vs bare node child', measured: `${v(num(k.agent_fork_ready_ms))} vs ${v(num(k.bare_fork_ready_ms))} ms; containment off: ${v(num(k.agent_fork_ready_uncontained_ms))} ms (x${v(r2(off))}), so the cgroup cell costs ${v(r2(num(k.agent_fork_ready_ms) !== null && num(k.agent_fork_ready_uncontained_ms) !== null ? num(k.agent_fork_ready_ms)! - num(k.agent_fork_ready_uncontained_ms)! : null, 1), ' ms')}`, ratio: r2(fork), goal: '<= x1.10', verdict: verdict(fork, (x) => x <= 1.1) });

  const sb = num(k.crash_start_to_retry_standby_ms);
  const pm2 = k.pm2?.crash_to_ready_ms ?? null;
  const cr = div(sb, pm2);
  rows.push({ figure: 'crash -> retry started (standby: 1) vs PM2 crash -> restarted-and-ready', measured: `${v(sb, ' ms')} (from the crashing attempt's start; ${v(num(k.crash_to_retry_standby_ms), ' ms')} from the exit seen) vs PM2 ${k.pm2?.version ?? '(not run)'} ${v(pm2, ' ms')}${k.pm2?.skipped ? ` (PM2 skipped: ${k.pm2.skipped})` : ''}`, ratio: r2(cr, 3), goal: '<= x0.1', verdict: verdict(cr, (x) => x <= 0.1) });

  const c100 = o.cells?.filter((c) => c.agents === 100) ?? [];
  const ready = c100.map((c) => c.report.spawn_all_ready_ms).filter((x): x is number => x !== null);
  const worstReady = ready.length ? Math.max(...ready) : null;
  rows.push({ figure: '100 agents all ready, 2 cores', measured: ready.length ? `${ready.join(' / ')} ms (R = ${c100.map((c) => c.fault_rate).join(' / ')})` : 'not run (quick mode: 10 agents at most)', ratio: worstReady, goal: '<= 4000 ms', verdict: verdict(worstReady, (x) => x <= 4000) });

  const big = c100.find((c) => c.fault_rate === 0.1 && c.report.tasks === 2000);
  const p99 = big?.report.latency_ms.p99 ?? null;
  const allOk = big ? big.report.succeeded === big.report.tasks : false;
  rows.push({ figure: '100 agents x 2,000 tasks at R = 0.1: p99 latency (hang timeout 1 s), every task succeeded', measured: big ? `p99 ${v(p99, ' ms')}; ${big.report.succeeded}/${big.report.tasks} succeeded` : 'not run (quick mode)', ratio: p99, goal: '<= 2500 ms, all succeeded', verdict: big ? (p99 !== null && p99 <= 2500 && allOk ? 'met' : 'missed') : 'not measured' });

  const peak = c100.length ? Math.max(...c100.map((c) => c.report.peak_rss_mb.kernel)) : null;
  rows.push({ figure: 'kernel peak RSS at 100 agents', measured: peak === null ? 'not run (quick mode)' : `${peak} MB (largest of the 100-agent cells)`, ratio: peak, goal: '<= 100 MB', verdict: verdict(peak, (x) => x <= 100) });
  const per = big?.report.per_agent_rss_vs_bare ?? null;
  rows.push({ figure: 'per-agent RSS vs bare node child (100 agents)', measured: big ? `${v(big.report.peak_rss_mb.per_agent_median)} vs ${v(big.report.bare_node_child_rss_mb)} MB` : 'not run (quick mode)', ratio: per, goal: '<= x1.10', verdict: verdict(per, (x) => x <= 1.1) });
  return rows;
}

/** The rows as text lines for the terminal. */
export function goalLines(rows: GoalRow[]): string[] {
  return rows.map((r) => `  ${r.verdict === 'met' ? 'MET   ' : r.verdict === 'missed' ? 'MISSED' : 'n/a   '} ${r.figure}: ${r.measured} -> ${r.ratio === null ? 'n/a' : r.ratio} (goal ${r.goal})`);
}
