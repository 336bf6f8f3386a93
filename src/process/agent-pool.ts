/**
 * The warm processes of one agent. Hands out idle processes, replaces any that die, and ends restart
 * loops: more than `restart.max_restarts` deaths within `restart.window_ms` (restart intensity), or
 * `restart.max_failed_starts` failed starts in a row however far apart (a process that times out at
 * ready, fails to load, or dies before ready), open the circuit; the agent's waiting and future work
 * then fails fast (to the fallback) with the last failure's message instead of crash-looping. A task
 * waiting for a process has a deadline too: if no process of the agent is ready for
 * (ready_timeout_ms + kill_grace_ms) x (max_failed_starts + 1), the waiters fail (E_SPAWN).
 */
import type { AgentSpec } from '../config/agent-spec.js';
import { AgentOSError } from '../errors.js';
import { setRestarts, setStandby, type ProcessTable } from '../kernel-api/acb.js';
import { Deque } from '../lib/deque.js';
import { AgentProcess, type ProcessContext } from './agent-process.js';
import type { SpawnGate } from './spawn-gate.js';

/** The agent restarted too often or never started: it takes no more work (code E_CIRCUIT_OPEN). */
export class CircuitOpenError extends AgentOSError {
  constructor(agent: string, why: string, last: string | undefined) {
    super('E_CIRCUIT_OPEN', `agent ${agent} is stopped: ${why} (circuit open)${last ? `; last failure: ${last}` : ''}`);
    this.name = 'CircuitOpenError';
  }
}

interface Waiter {
  resolve: (p: AgentProcess) => void;
  reject: (e: Error) => void;
}

export class AgentPool {
  private readonly idle: AgentProcess[] = [];
  private readonly waiters = new Deque<Waiter>();
  /** Slots 0..instances+standby-1; which process is a spare is decided when it becomes ready. */
  private readonly slots: Array<AgentProcess | undefined>;
  /** Ready warm spares (agent.yaml `standby`): no task until a process of the pool dies. */
  private readonly spares = new Set<AgentProcess>();
  private standbyPeakMb = 0;
  private readonly restartTimes: number[] = [];
  private readonly startErrors = new WeakMap<AgentProcess, string>();
  private restarts = 0;
  private failedStarts = 0;
  private lastFailure: string | undefined;
  private lastReadyAt = performance.now();
  private waitTimer: NodeJS.Timeout | undefined;
  private circuit: CircuitOpenError | undefined;
  private closing = false;
  private started: Promise<void> | undefined;

  constructor(
    readonly spec: AgentSpec,
    private readonly ctx: Omit<ProcessContext, 'onExit'>,
    private readonly table: ProcessTable,
    /** Paces spawns across every pool of the run (spawn-gate.ts); none: spawn at once. */
    private readonly gate?: SpawnGate,
  ) {
    this.slots = new Array<AgentProcess | undefined>(spec.instances + spec.standby).fill(undefined);
  }

  /** Start every instance; resolves once all are ready or have failed (failures count as restarts). */
  start(): Promise<void> {
    this.started ??= Promise.all(this.slots.map((_, i) => this.spawn(i))).then(() => {});
    return this.started;
  }

  /** Live processes of this pool (for the quota sampler). */
  processes(): AgentProcess[] {
    return this.slots.filter((p): p is AgentProcess => p !== undefined && p.alive);
  }

  /** Deaths counted against the agent (crash, kill, failed start): report agents[].restarts, metrics.restarts and each ACB agree. */
  get restartCount(): number {
    return this.restarts;
  }

  /** The largest summed RSS (MiB) of this pool's spares seen so far: what `standby` costs in memory. */
  get standbyRssMb(): number {
    this.noteStandbyRss();
    return this.standbyPeakMb;
  }

  private noteStandbyRss(): void {
    let sum = 0;
    for (const p of this.spares) sum += p.acb.peak_rss_mb;
    if (sum > this.standbyPeakMb) this.standbyPeakMb = sum;
  }

  get open(): boolean {
    return this.circuit !== undefined;
  }

  /**
   * How long waiters may go without any ready process of this agent (ms):
   * (ready_timeout_ms + kill_grace_ms) x (max_failed_starts + 1).
   */
  get waitBoundMs(): number {
    return (this.spec.ready_timeout_ms + this.spec.kill_grace_ms) * (this.spec.restart.max_failed_starts + 1);
  }

  /**
   * An idle, ready process of this agent (waits for one). Rejects with CircuitOpenError, or AgentOSError
   * E_SPAWN when no process became ready within waitBoundMs.
   * `retry`: the caller retries a task that already ran; it waits at the head of the line, so a retried
   * task finishes next instead of behind the whole backlog (measured with agentos stress, 10 agents x
   * 2,000 tasks at R = 0.1: p95 latency 21,474 ms -> 949 ms, max 39,175 ms -> 2,083 ms).
   */
  acquire(opts: { retry?: boolean } = {}): Promise<AgentProcess> {
    if (this.circuit) return Promise.reject(this.circuit);
    const p = this.idle.pop();
    if (p) return Promise.resolve(p);
    return new Promise<AgentProcess>((resolve, reject) => {
      if (opts.retry) this.waiters.unshift({ resolve, reject });
      else this.waiters.push({ resolve, reject });
      this.armWaitTimer(this.waitBoundMs);
    });
  }

  /** Give a process back after an attempt. A dead one is ignored: its exit already queued a replacement. */
  release(p: AgentProcess): void {
    if (p.acb.state !== 'idle' || this.closing) return;
    const w = this.waiters.shift();
    if (w) w.resolve(p);
    else this.idle.push(p);
  }

  /** Stop every process of the pool; resolves when all are gone. */
  async close(): Promise<void> {
    this.closing = true;
    this.failWaiters(new AgentOSError('E_SHUTTING_DOWN', `agent ${this.spec.name} is shutting down`));
    await Promise.all(this.slots.map((p) => p?.stop()));
  }

  private failWaiters(err: Error): void {
    clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    for (const w of this.waiters.drain()) w.reject(err);
  }

  /** One timer per pool (not per waiter: acquire is on the dispatch path). */
  private armWaitTimer(ms: number): void {
    if (this.waitTimer) return;
    this.waitTimer = setTimeout(() => this.checkWaiters(), ms);
    this.waitTimer.unref();
  }

  private checkWaiters(): void {
    this.waitTimer = undefined;
    if (this.waiters.length === 0 || this.closing) return;
    const now = performance.now();
    // A ready process, even a busy one, is progress: its waiters are served when it is released.
    if (this.slots.some((s) => s?.alive && s.acb.ready_ms !== null)) this.lastReadyAt = now;
    const waited = now - this.lastReadyAt;
    if (waited < this.waitBoundMs) {
      this.armWaitTimer(this.waitBoundMs - waited);
      return;
    }
    const last = this.lastFailure ? `; last failure: ${this.lastFailure}` : '';
    const err = new AgentOSError('E_SPAWN', `agent ${this.spec.name} did not become ready within ${Math.round(waited)} ms (${this.failedStarts} failed start(s) in a row${last})`);
    this.ctx.events.emit({ type: 'agent.wait_expired', agent: this.spec.name, waiters: this.waiters.length, waited_ms: Math.round(waited) });
    this.failWaiters(err);
  }

  /** Start a process in `slot` once the spawn gate gives a turn (`urgent`: a replacement, first in line). */
  private async spawn(slot: number, urgent = false): Promise<void> {
    if (this.closing || this.circuit) return;
    const done = this.gate ? await this.gate.acquire(urgent) : undefined;
    try {
      await this.spawnNow(slot);
    } finally {
      done?.();
    }
  }

  private async spawnNow(slot: number): Promise<void> {
    if (this.closing || this.circuit) return;
    this.ctx.events.emit({ type: 'process.starting', agent: this.spec.name, instance: slot + 1 });
    const proc = new AgentProcess(this.spec, slot + 1, this.restarts, { ...this.ctx, onExit: (p) => this.onExit(slot, p) });
    this.slots[slot] = proc;
    this.table.add(proc.acb);
    try {
      await proc.ready();
    } catch (err) {
      // Init error or ready timeout: kept for the circuit's message (the exit handler counts it).
      this.startErrors.set(proc, (err as Error).message);
      return;
    }
    this.failedStarts = 0;
    this.lastReadyAt = performance.now();
    if (this.activeReady(proc) >= this.spec.instances) {
      // Every instance is up: this one waits as a spare (still sampled, contained, shown in ps).
      this.spares.add(proc);
      setStandby(proc.acb, true);
      return;
    }
    this.release(proc);
  }

  /** Ready processes that take tasks, `except` left out. */
  private activeReady(except: AgentProcess): number {
    let n = 0;
    for (const s of this.slots) if (s && s !== except && s.alive && s.acb.ready_ms !== null && !this.spares.has(s)) n++;
    return n;
  }

  /** A process that took tasks died: a ready spare takes its place at once (the retry is a dispatch). */
  private promoteSpare(): void {
    for (const p of this.spares) {
      if (!p.alive || p.acb.state !== 'idle') continue;
      this.noteStandbyRss();
      this.spares.delete(p);
      setStandby(p.acb, false);
      this.release(p);
      return;
    }
  }

  private onExit(slot: number, proc: AgentProcess): void {
    const i = this.idle.indexOf(proc);
    if (i >= 0) this.idle.splice(i, 1);
    // A spare that dies is replaced like any process; one that took tasks hands its place to a spare.
    if (!this.spares.delete(proc) && !this.closing) this.promoteSpare();
    if (this.closing || proc.acb.state === 'exited') return;
    if (proc.killedFor === 'cancelled') {
      // The kernel ended it on purpose (its task was cancelled): replace it, but it is no crash and
      // does not count against the restart intensity.
      void this.spawn(slot, true);
      return;
    }
    const neverReady = proc.acb.ready_ms === null;
    // An init error or ready timeout names the cause better than the exit it led to.
    this.lastFailure = (neverReady ? this.startErrors.get(proc) : undefined) ?? proc.outcome?.message;
    if (neverReady) this.failedStarts++;
    // Restart intensity: count restarts in the sliding window.
    const now = performance.now();
    this.restarts++;
    setRestarts(proc.acb, this.restarts);
    this.restartTimes.push(now);
    const { max_restarts, window_ms, max_failed_starts } = this.spec.restart;
    while (this.restartTimes.length > 0 && now - this.restartTimes[0]! > window_ms) this.restartTimes.shift();
    const why =
      this.failedStarts >= max_failed_starts
        ? { cause: 'failed_starts' as const, text: `${this.failedStarts} failed starts in a row` }
        : this.restartTimes.length > max_restarts
          ? { cause: 'intensity' as const, text: `${this.restartTimes.length} restarts within ${window_ms} ms` }
          : undefined;
    this.ctx.events.emit({ type: 'process.restart', agent: this.spec.name, instance: slot + 1, restarts: this.restarts, replaced: why === undefined });
    if (why) {
      this.circuit = new CircuitOpenError(this.spec.name, why.text, this.lastFailure);
      this.ctx.events.emit({ type: 'agent.circuit_open', agent: this.spec.name, restarts: this.restartTimes.length, window_ms, cause: why.cause, ...(this.lastFailure ? { last_error: this.lastFailure } : {}) });
      this.failWaiters(this.circuit);
      return;
    }
    void this.spawn(slot, true);
  }
}
