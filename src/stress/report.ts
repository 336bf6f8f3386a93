import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The stress report: the fields the issue asks for, then the context needed to read them. */
export interface StressReport {
  agents: number;
  tasks: number;
  succeeded: number;
  failed: number;
  /** Agent processes replaced after a crash, a kill for timeout or memory. */
  restarts: number;
  faults_injected: number;
  /** Per task, from its first dispatch to its final result (retries and backoff included). */
  latency_ms: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  throughput_per_s: number;
  /** From the run start until all N agent processes had reported ready. */
  spawn_all_ready_ms: number | null;
  peak_rss_mb: { kernel: number; agents_total: number; per_agent_median: number | null };
  /** Kernel plus every agent process it reaped, from /proc (utime+stime+cutime+cstime). */
  cpu_seconds: number;
  /** Processes of the run (by pid, and any process naming the run) alive after it ended. */
  orphans: number;
  // ---- context ----
  fault_rate: number;
  faults: string[];
  failures_by_kind: Record<string, number>;
  retries: number;
  attempts: number;
  duration_ms: number;
  cpu_seconds_detail: { kernel: number; agents: number };
  /** The kernel's CPU (user + system, µs) per attempt over the dispatch phase: first task running -> last task final. */
  kernel_cpu_us_per_task: number | null;
  /** Yardstick for per_agent_median: a bare `node` child with an IPC channel, measured in the same run. */
  bare_node_child_rss_mb: number | null;
  per_agent_rss_vs_bare: number | null;
  orphan_pids: number[];
  workload: { cpu_ms: number; wait_ms: number; cpu_share: number; timeout_ms: number; max_attempts: number; memory_mb: number; seed: number };
  run_id: string;
  run_dir: string;
  machine: { node: string; cores: number; platform: string };
}

/** Write JSON atomically: a reader never sees half a report. */
export function writeJsonFile(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}
