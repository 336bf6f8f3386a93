/**
 * The run report: what every task did, every agent process, and the run's metrics. Written to the run
 * directory (and --report) at the end of every run, interrupted ones included.
 */
import type { BusReport } from '../bus/bus.js';
import type { ContextReport } from '../context/manager.js';
import type { Acb, ProcessTable } from '../kernel-api/acb.js';
import type { KvStats } from '../kvcache/store.js';
import type { ConcurrencyDecision, ResourceSample } from '../monitor/resource-monitor.js';
import type { ContainmentReport } from '../process/containment/types.js';
import type { SamplerReport } from '../process/quota-sampler.js';
import type { TaskGraph, TaskRecord } from '../scheduler/task-graph.js';
import type { Incident } from './incidents.js';
import type { ReplayTask, RunState } from '../journal/replay.js';
import type { MetricsCollector, RunMetrics } from './metrics.js';
import { writeReportFile } from './report-writer.js';

export type RunStatus = 'succeeded' | 'failed' | 'interrupted';

export interface TaskReport {
  id: string;
  agent: string;
  state: TaskRecord['state'];
  attempts: number;
  served_by: string | null;
  output: unknown;
  error: TaskRecord['error'];
  failures: Array<{ attempt: number; agent: string; kind: string; message: string; pid: number; stack?: string }>;
  duration_ms: number | null;
  deps: string[];
  dynamic: boolean;
}

export interface AgentReport {
  name: string;
  pids: number[];
  restarts: number;
  peak_rss_mb: number;
  attempts_served: number;
  tokens: number;
  circuit_open: boolean;
  /** Warm spares kept beyond `instances` (agent.yaml `standby`), and the largest summed RSS (MiB) they held: their memory cost. */
  standby?: { processes: number; rss_mb: number };
}

export interface RunReport {
  run_id: string;
  plan: string;
  status: RunStatus;
  started_at: string;
  duration_ms: number;
  run_dir: string;
  /** Kernels that took the run over from its journal (agentos resume), oldest first: `at` in epoch ms. */
  resumed: Array<{ at: number; by_pid: number }>;
  /** Where the task section comes from: the run journal (the whole run), or memory (a run without one). */
  source: 'journal' | 'memory';
  /** The kernel and its reaper, for orphan checks. */
  kernel: { pid: number; reaper_pid: number | null };
  tasks: TaskReport[];
  agents: AgentReport[];
  processes: Acb[];
  /** Resource monitor samples and concurrency decisions, when the monitor ran. */
  resources?: { samples: Array<{ t: number; cpu: number; mem_free_mb: number; concurrency: number }>; decisions: Array<{ t: number; from: number; to: number; reason: string }> } | undefined;
  metrics: RunMetrics & { tasks: Record<string, number> };
  /** Message bus figures and dead letters (present when an agent used the bus). */
  bus?: BusReport;
  /** Context manager: tokens before/after compression, per task and per agent (when used). */
  context?: ContextReport;
  /** KV-cache page store stats just before shutdown and after every process ended (when used). */
  kv?: { before_shutdown: KvStats; after_shutdown: KvStats };
  /** What happened to the kernel itself: stopped and continued, reaper stopped or lost, shutdown overdue (when any). */
  incidents?: Incident[];
  /** Which mechanism held each agent process (cgroups or the /proc walk) and every process that escaped it (docs/containment.md). */
  containment?: ContainmentReport;
  /** The quota sampler: ticks, errors (EMFILE...) counted instead of stopping the kernel, the last error. */
  sampler?: SamplerReport;
}

export function taskReport(t: TaskRecord): TaskReport {
  return {
    id: t.id,
    agent: t.agent,
    state: t.state,
    attempts: t.attempts,
    served_by: t.served_by,
    output: t.output,
    error: t.error,
    failures: t.failures.map((f) => ({ attempt: f.attempt, agent: f.agent, kind: f.kind, message: f.message, pid: f.pid, ...(f.stack ? { stack: f.stack } : {}) })),
    duration_ms: t.startedAt !== null && t.endedAt !== null ? Math.round(t.endedAt - t.startedAt) : null,
    deps: t.deps,
    dynamic: t.dynamic,
  };
}

export function agentReports(acbs: readonly Acb[], restarts: Map<string, number>, tokensPerCall: Map<string, number>, open: Set<string>, standby = new Map<string, { processes: number; rss_mb: number }>()): AgentReport[] {
  const by = new Map<string, AgentReport>();
  for (const a of acbs) {
    let r = by.get(a.agent);
    if (!r) {
      r = { name: a.agent, pids: [], restarts: restarts.get(a.agent) ?? 0, peak_rss_mb: 0, attempts_served: 0, tokens: 0, circuit_open: open.has(a.agent) };
      by.set(a.agent, r);
    }
    r.pids.push(a.pid);
    r.peak_rss_mb = Math.max(r.peak_rss_mb, a.peak_rss_mb);
    r.attempts_served += a.served;
    r.tokens += a.tokens_used ?? 0;
  }
  // Declared cost per call plus what model endpoints reported (llm.chat usage).
  for (const r of by.values()) {
    r.tokens += r.attempts_served * (tokensPerCall.get(r.name) ?? 0);
    const sb = standby.get(r.name);
    if (sb && sb.processes > 0) r.standby = sb;
  }
  return [...by.values()];
}

/**
 * Write atomically (a reader never sees half a report), piece by piece, with outputs over 1 MiB of JSON
 * stored in `<run_dir>/outputs/` (report-writer.ts): no report exceeds a string limit.
 */
export function writeReport(file: string, report: RunReport): void {
  writeReportFile(file, report);
}

export interface ReportParts {
  runId: string;
  runDir: string;
  plan: string;
  status: RunStatus;
  startedAt: Date;
  durationMs: number;
  graph: TaskGraph;
  table: ProcessTable;
  /** The runner's pools (restarts, circuits, tokens per call) and its reaper. */
  runner: { pools: ReadonlyMap<string, { restartCount: number; open: boolean; standbyRssMb: number; spec: { standby: number; cost: { tokens_per_call: number } } }>; reaperPid: number | null };
  metrics: MetricsCollector;
  resources?: { samples: ResourceSample[]; decisions: ConcurrencyDecision[] } | undefined;
  bus?: BusReport | undefined;
  context?: ContextReport | undefined;
  kv?: { before_shutdown: KvStats; after_shutdown: KvStats } | undefined;
  incidents?: readonly Incident[] | undefined;
  containment?: ContainmentReport | undefined;
  sampler?: SamplerReport | undefined;
  /** The run's state read back from its journal: the source of the task section, start and resumes. */
  journal?: RunState | undefined;
}

/** A task as the journal tells it; timings from this kernel's graph when it ran it (else null). */
export function journalTaskReport(t: ReplayTask, live: TaskRecord | undefined): TaskReport {
  const state: TaskRecord['state'] = t.status === 'running' ? 'skipped' : t.status;
  return {
    id: t.id,
    agent: t.agent,
    state,
    attempts: t.attempts,
    served_by: t.served_by,
    output: t.output,
    error: t.error as TaskRecord['error'],
    failures: [
      ...t.failures.map((f) => {
        const stack = live?.failures.find((l) => l.attempt === f.attempt && l.agent === f.agent)?.stack;
        return { attempt: f.attempt, agent: f.agent, kind: f.kind, message: f.message, pid: f.pid, ...(stack ? { stack } : {}) };
      }),
      // A token_quota refusal is not an attempt (no process ran), so it is no journal fact: from memory.
      ...(live?.failures.filter((f) => f.kind === 'token_quota').map((f) => ({ attempt: f.attempt, agent: f.agent, kind: f.kind, message: f.message, pid: f.pid })) ?? []),
    ],
    duration_ms: live && live.startedAt !== null && live.endedAt !== null ? Math.round(live.endedAt - live.startedAt) : null,
    deps: t.deps,
    dynamic: t.dynamic,
  };
}

/** The run report, assembled from the kernel's parts at the end of a run. */
export function buildReport(p: ReportParts): RunReport {
  const j = p.journal;
  const tasks: TaskReport[] = j ? [...j.tasks.values()].map((t) => journalTaskReport(t, p.graph.get(t.id))) : [...p.graph.tasks.values()].map(taskReport);
  const count = (s: string): number => tasks.filter((t) => t.state === s).length;
  const pools = [...p.runner.pools];
  const restarts = new Map(pools.map(([n, pool]) => [n, pool.restartCount]));
  const tokens = new Map(pools.map(([n, pool]) => [n, pool.spec.cost.tokens_per_call]));
  const open = new Set(pools.filter(([, pool]) => pool.open).map(([n]) => n));
  return {
    run_id: p.runId,
    plan: p.plan,
    status: p.status,
    started_at: (j ? new Date(j.header.ts_ms) : p.startedAt).toISOString(),
    duration_ms: p.durationMs,
    run_dir: p.runDir,
    resumed: j ? j.resumed.map((r) => ({ ...r })) : [],
    source: j ? 'journal' : 'memory',
    kernel: { pid: process.pid, reaper_pid: p.runner.reaperPid },
    tasks,
    agents: agentReports(p.table.all(), restarts, tokens, open, new Map(pools.map(([n, pool]) => [n, { processes: pool.spec.standby, rss_mb: Math.round(pool.standbyRssMb * 10) / 10 }]))),
    processes: p.table.all().map((a) => ({ ...a })),
    resources: p.resources,
    metrics: {
      ...p.metrics.snapshot(),
      tasks: { total: tasks.length, succeeded: count('succeeded'), failed: count('failed'), skipped: count('skipped') },
    },
    ...(p.bus ? { bus: p.bus } : {}),
    ...(p.context ? { context: p.context } : {}),
    ...(p.kv ? { kv: p.kv } : {}),
    ...(p.incidents?.length ? { incidents: [...p.incidents] } : {}),
    ...(p.containment ? { containment: p.containment } : {}),
    ...(p.sampler ? { sampler: p.sampler } : {}),
  };
}
