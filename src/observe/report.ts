/**
 * The run report: what every task did, every agent process, and the run's metrics. Written to the run
 * directory (and --report) at the end of every run, interrupted ones included.
 */
import { writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Acb } from '../kernel-api/acb.js';
import type { TaskRecord } from '../scheduler/task-graph.js';
import type { RunMetrics } from './metrics.js';
import type { BusReport } from '../bus/bus.js';
import type { ContextReport } from '../context/manager.js';
import type { KvStats } from '../kvcache/store.js';

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
}

export interface RunReport {
  run_id: string;
  plan: string;
  status: RunStatus;
  started_at: string;
  duration_ms: number;
  run_dir: string;
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

export function agentReports(acbs: readonly Acb[], restarts: Map<string, number>, tokensPerCall: Map<string, number>, open: Set<string>): AgentReport[] {
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
  for (const r of by.values()) r.tokens += r.attempts_served * (tokensPerCall.get(r.name) ?? 0);
  return [...by.values()];
}

/** Write atomically: a reader never sees half a report. */
export function writeReport(file: string, report: RunReport): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(tmp, file);
}
