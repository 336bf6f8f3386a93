/** Run metrics, counted from events (so every number in the report has an event behind it). */
import { percentile } from '../lib/stats.js';
import type { EventLog, TimedEvent } from '../kernel-api/events.js';

export interface RunMetrics {
  attempts: number;
  retries: number;
  fallbacks: number;
  failures_by_kind: Record<string, number>;
  faults_injected: number;
  restarts: number;
  processes_spawned: number;
  circuits_opened: number;
  ipc_rejected: number;
  quota_kills: number;
  quota_samples: number;
  dynamic_tasks: number;
  spawn_ready_ms: { median: number | null; max: number | null };
}

/** Re-exported for the benchmarks and the stress report, which print the same percentiles. */
export { percentile };

export class MetricsCollector {
  private readonly m: RunMetrics = {
    attempts: 0,
    retries: 0,
    fallbacks: 0,
    failures_by_kind: {},
    faults_injected: 0,
    restarts: 0,
    processes_spawned: 0,
    circuits_opened: 0,
    ipc_rejected: 0,
    quota_kills: 0,
    quota_samples: 0,
    dynamic_tasks: 0,
    spawn_ready_ms: { median: null, max: null },
  };
  private readonly readyMs: number[] = [];

  constructor(events: EventLog) {
    events.on((e) => this.count(e));
  }

  private count(e: TimedEvent): void {
    const m = this.m;
    switch (e.type) {
      case 'task.state':
        if (e.state === 'running' && e.attempt !== undefined) m.attempts++;
        break;
      case 'task.added':
        if (e.dynamic) m.dynamic_tasks++;
        break;
      case 'task.retry':
        m.retries++;
        break;
      case 'task.fallback':
        m.fallbacks++;
        break;
      case 'task.failure':
        m.failures_by_kind[e.kind] = (m.failures_by_kind[e.kind] ?? 0) + 1;
        break;
      case 'fault.injected':
        m.faults_injected++;
        break;
      case 'process.starting':
        m.processes_spawned++;
        break;
      case 'process.ready':
        this.readyMs.push(e.ready_ms);
        break;
      case 'process.restart':
        m.restarts++;
        break;
      case 'agent.circuit_open':
        m.circuits_opened++;
        break;
      case 'ipc.rejected':
        m.ipc_rejected++;
        break;
      case 'quota.exceeded':
        m.quota_kills++;
        break;
      case 'quota.sample':
        m.quota_samples++;
        break;
      default:
        break;
    }
  }

  snapshot(): RunMetrics {
    const sorted = [...this.readyMs].sort((a, b) => a - b);
    return { ...this.m, failures_by_kind: { ...this.m.failures_by_kind }, spawn_ready_ms: { median: percentile(sorted, 50), max: sorted[sorted.length - 1] ?? null } };
  }
}
