/** The shapes the dashboard's view is made of (run-view.ts folds events into them; the page reads them). */
import type { Acb } from '../kernel-api/acb.js';
import type { TaskState, TimedEvent } from '../kernel-api/events.js';

export interface TaskView {
  id: string;
  agent: string;
  deps: string[];
  dynamic: boolean;
  state: TaskState;
  attempts: number;
  served_by: string | null;
  /** Agent/pid of the current or last attempt. */
  agent_now: string | null;
  pid: number | null;
  failures: Array<{ attempt: number; agent: string; kind: string; message: string }>;
  reason: string | null;
  started_t: number | null;
  ended_t: number | null;
  output: unknown;
  /** seq of the last change (clients ask for tasks changed since their seq). */
  v: number;
}

export type SeqEvent = TimedEvent & { seq: number };

export interface ProcView extends Acb {
  tokens: number;
  rss_hist: number[];
  cpu_hist: number[];
}

export interface RunInfo {
  run_id: string;
  plan: string;
  run_dir: string;
  status: 'running' | 'succeeded' | 'failed' | 'interrupted';
  started_t: number;
  duration_ms: number | null;
  /** Last event time, for the elapsed clock. */
  now_t: number;
}

export interface ViewMetrics {
  attempts: number;
  retries: number;
  fallbacks: number;
  restarts: number;
  faults_injected: number;
  processes_spawned: number;
  dynamic_tasks: number;
  failures_by_kind: Record<string, number>;
  events: number;
  quota_samples: number;
  /** Events by type prefix (bus., context., kv. ... as later parts add them). */
  by_type: Record<string, number>;
}

/** The whole view (snapshot) or what changed since a client's seq (delta): one shape for both. */
export interface ViewState {
  seq: number;
  run: RunInfo | null;
  tasks: TaskView[];
  events: SeqEvent[];
  procs: ProcView[];
  metrics: ViewMetrics;
  report: unknown;
}
export type Snapshot = ViewState;
export type Delta = ViewState;
