/**
 * Every state change of a run is an event. The kernel and its services emit; observe/ (the logger, the
 * metrics, the trace, the report), the terminal and the dashboard only subscribe. Listeners run
 * synchronously and must be cheap: emit() sits on the dispatch path.
 */
import type { FailureKind } from '../protocol/messages.js';
import type { ProcState } from './acb.js';

export type { ProcState };

export type TaskState = 'pending' | 'ready' | 'running' | 'succeeded' | 'failed' | 'skipped';

export type KernelEvent =
  | { type: 'run.started'; run_id: string; plan: string; tasks: number; agents: string[]; run_dir: string }
  | { type: 'run.finished'; run_id: string; status: 'succeeded' | 'failed' | 'interrupted'; duration_ms: number }
  | { type: 'run.interrupted'; signal: string }
  /** Interrupted again while shutting down: every agent is SIGKILLed now (a second Ctrl-C). */
  | { type: 'run.forced'; signal: string }
  /** The kernel was left stopped (SIGSTOP) and its reaper continued it after about `for_ms`. */
  | { type: 'kernel.stopped'; for_ms: number }
  /** The reaper was found stopped and continued; or it died and was started again (`restarts` before). */
  | { type: 'reaper.stopped'; pid: number }
  | { type: 'reaper.lost'; pid: number; code: number | null; signal: string | null; restarts: number }
  /** A shutdown step did not finish within its bound; every agent was SIGKILLed and shutdown went on. */
  | { type: 'shutdown.overdue'; step: string; waited_ms: number }
  | { type: 'process.starting'; agent: string; instance: number }
  | { type: 'process.ready'; agent: string; instance: number; pid: number; ready_ms: number }
  | { type: 'process.init_failed'; agent: string; instance: number; pid: number | undefined; message: string }
  | { type: 'process.exited'; agent: string; instance: number; pid: number; code: number | null; signal: string | null; reason: string; state: ProcState }
  | { type: 'process.restart'; agent: string; instance: number; restarts: number; /** false: the death opened the circuit, no replacement */ replaced?: boolean }
  | { type: 'containment.error'; agent: string; instance: number; message: string }
  | { type: 'containment.escaped'; agent: string; instance: number; pid: number; cmd: string; found_by: 'parent' | 'tag'; killed: boolean }
  | { type: 'containment.reaped'; removed: string[]; killed: number[]; failed: string[] }
  | { type: 'sampler.error'; errors: number; message: string }
  | { type: 'log.rotated'; agent: string; instance: number; stream: 'log'; bytes: number }
  | { type: 'agent.wait_expired'; agent: string; waiters: number; waited_ms: number }
  | { type: 'agent.circuit_open'; agent: string; restarts: number; window_ms: number; /** why: restart intensity, or failed starts in a row */ cause?: 'intensity' | 'failed_starts'; /** the last death's or failed start's message */ last_error?: string }
  | { type: 'task.added'; task: string; agent: string; deps: string[]; dynamic: boolean }
  | { type: 'task.spawn_rejected'; task: string; by: string; code: string; message: string }
  | { type: 'task.state'; task: string; state: TaskState; agent?: string; attempt?: number; pid?: number; instance?: number; reason?: string }
  | { type: 'task.failure'; task: string; agent: string; attempt: number; kind: FailureKind; message: string; pid: number }
  | { type: 'task.retry'; task: string; agent: string; attempt: number; delay_ms: number }
  | { type: 'task.fallback'; task: string; from: string; to: string }
  | { type: 'task.log'; task: string; agent: string; level: string; msg: string; data?: unknown }
  | { type: 'fault.injected'; task: string; agent: string; attempt: number; fault: string }
  | { type: 'quota.sample'; samples: Array<{ agent: string; instance: number; pid: number; rss_mb: number; cpu: number }> }
  | { type: 'quota.exceeded'; agent: string; instance: number; pid: number; rss_mb: number; quota_mb: number }
  | { type: 'ipc.rejected'; agent: string; instance: number; pid: number; reason: string }
  | { type: 'task.cancelled'; task: string; by: string; reason: string }
  | { type: 'llm.usage'; agent: string; pid: number; task: string; model: string; tokens: number }
  | { type: 'llm.error'; agent: string; task: string; code: string; message: string }
  | { type: 'monitor.sample'; cpu: number; mem_free_mb: number; concurrency: number }
  | { type: 'monitor.decision'; from: number; to: number; reason: string }
  | { type: 'bus.dropped'; to: string; from: string; seq: number; reason: string; policy: 'reject' | 'drop_oldest' }
  | { type: 'bus.blocked'; to: string; from: string; seq: number; depth: number }
  | { type: 'bus.dead_letter'; to: string; from: string; seq: number; reason: string }
  | { type: 'kv.released'; agent: string; instance: number; pid: number; sequences: number }
  | { type: 'context.compressed'; task: string; agent: string; tokens_before: number; tokens_after: number; budget: number }
  | { type: 'token.quota_exceeded'; agent: string; task: string; used: number; budget: number };

export type TimedEvent = KernelEvent & { t: number };
export type Listener = (event: TimedEvent) => void;

export class EventLog {
  private readonly listeners: Listener[] = [];
  private readonly t0 = performance.now();
  /** Sinks that said they are behind (sinkBehind); while any is, agents' channels are paused. */
  private readonly lagging = new Set<string>();
  private caughtUp: Array<() => void> = [];

  /**
   * A subscriber that buffers what it cannot write yet (the progress lines on a pipe to a slow reader)
   * says it is behind (`true`) or has caught up (`false`). While any sink is behind, the kernel stops
   * reading agents' channels after the frame in hand (backpressure: a log flood slows the agent, the
   * kernel's memory does not grow with it; docs/protocol.md).
   */
  sinkBehind(sink: string, behind: boolean): void {
    if (behind) {
      this.lagging.add(sink);
      return;
    }
    if (!this.lagging.delete(sink) || this.lagging.size > 0) return;
    const waiting = this.caughtUp;
    this.caughtUp = [];
    for (const cb of waiting) {
      try {
        cb();
      } catch {
        // A waiter that throws must not keep the others paused.
      }
    }
  }

  /** True while some sink is behind (sinkBehind). */
  get behind(): boolean {
    return this.lagging.size > 0;
  }

  /** Call `cb` once no sink is behind: at once when none is. */
  whenCaughtUp(cb: () => void): void {
    if (this.lagging.size === 0) cb();
    else this.caughtUp.push(cb);
  }

  on(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Milliseconds since the run began. */
  now(): number {
    return Math.round((performance.now() - this.t0) * 1000) / 1000;
  }

  emit(event: KernelEvent): void {
    if (this.listeners.length === 0) return;
    const timed = { ...event, t: this.now() } as TimedEvent;
    for (const l of this.listeners) {
      try {
        l(timed);
      } catch {
        // A broken subscriber must never break the kernel.
      }
    }
  }
}
