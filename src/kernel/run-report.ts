/** The run report, assembled from the kernel's parts at the end of a run. */
import type { ProcessTable } from '../kernel-api/acb.js';
import type { BusReport } from '../bus/bus.js';
import type { ContextReport } from '../context/manager.js';
import type { KvStats } from '../kvcache/store.js';
import type { ConcurrencyDecision, ResourceSample } from '../monitor/resource-monitor.js';
import type { MetricsCollector } from '../observe/metrics.js';
import { agentReports, taskReport, type RunReport, type RunStatus } from '../observe/report.js';
import type { LocalRunner } from '../process/local-runner.js';
import type { TaskGraph } from '../scheduler/task-graph.js';

export interface ReportParts {
  runId: string;
  runDir: string;
  plan: string;
  status: RunStatus;
  startedAt: Date;
  durationMs: number;
  graph: TaskGraph;
  table: ProcessTable;
  runner: LocalRunner;
  metrics: MetricsCollector;
  resources?: { samples: ResourceSample[]; decisions: ConcurrencyDecision[] } | undefined;
  bus?: BusReport | undefined;
  context?: ContextReport | undefined;
  kv?: { before_shutdown: KvStats; after_shutdown: KvStats } | undefined;
}

export function buildReport(p: ReportParts): RunReport {
  const tasks = [...p.graph.tasks.values()];
  const count = (s: string): number => tasks.filter((t) => t.state === s).length;
  const pools = [...p.runner.pools];
  const restarts = new Map(pools.map(([n, pool]) => [n, pool.restartCount]));
  const tokens = new Map(pools.map(([n, pool]) => [n, pool.spec.cost.tokens_per_call]));
  const open = new Set(pools.filter(([, pool]) => pool.open).map(([n]) => n));
  return {
    run_id: p.runId,
    plan: p.plan,
    status: p.status,
    started_at: p.startedAt.toISOString(),
    duration_ms: p.durationMs,
    run_dir: p.runDir,
    kernel: { pid: process.pid, reaper_pid: p.runner.reaperPid },
    tasks: tasks.map(taskReport),
    agents: agentReports(p.table.all(), restarts, tokens, open),
    processes: p.table.all().map((a) => ({ ...a })),
    resources: p.resources,
    metrics: {
      ...p.metrics.snapshot(),
      tasks: { total: tasks.length, succeeded: count('succeeded'), failed: count('failed'), skipped: count('skipped') },
    },
    ...(p.bus ? { bus: p.bus } : {}),
    ...(p.context ? { context: p.context } : {}),
    ...(p.kv ? { kv: p.kv } : {}),
  };
}
