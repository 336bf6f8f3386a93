/**
 * Runs a task DAG: dispatches ready tasks in parallel up to the concurrency limit, retries failed
 * attempts with backoff, hands exhausted tasks to the fallback chain, skips dependents of failures, and
 * accepts tasks added while the run is going (dynamic insertion). It never sees a process: attempts go
 * through an AttemptRunner, the kernel's hooks through a SchedulingPolicy, and every fact it establishes
 * through a FactSink before it takes effect (all three in src/kernel-api/).
 */
import PQueue from 'p-queue';
import { AgentOSError } from '../errors.js';
import type { AttemptLease, AttemptOutcome, AttemptPlace, AttemptRunner } from '../kernel-api/attempt-runner.js';
import type { EventLog } from '../kernel-api/events.js';
import { NO_FACTS, type FactSink, type SchedulingPolicy } from '../kernel-api/scheduling.js';
import type { Fault } from '../protocol/messages.js';
import { executeTask } from './attempts.js';
import { FinishWaiters } from './finish-waiters.js';
import { injectionFor } from './injections.js';
import { TaskGraph, isTerminal, type TaskRecord } from './task-graph.js';
import type { Dispatch, NewTask, SchedulerHost, SchedulerOptions } from './types.js';

export type { Injection, TaskInjection } from './injections.js';
export type { Dispatch, NewTask, SchedulerHost, SchedulerOptions } from './types.js';

export class Scheduler implements Dispatch {
  readonly graph = new TaskGraph();
  readonly queue: PQueue;
  readonly policy: SchedulingPolicy;
  readonly runner: AttemptRunner;
  readonly leases = new Map<string, AttemptLease>();
  private readonly facts: FactSink;
  private stopping = false;
  private dynamicAdded = 0;
  private readonly sleepers = new Set<() => void>();
  private readonly finished = new FinishWaiters();
  private baseConcurrency: number;
  /** Attempts blocked in task.wait; each lends its global slot (see park()). */
  private parked = 0;
  private doneResolve: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(
    host: SchedulerHost,
    readonly events: EventLog,
    private readonly opts: SchedulerOptions,
  ) {
    this.policy = host;
    this.runner = host.runner;
    this.facts = host.facts ?? NO_FACTS;
    this.queue = new PQueue({ concurrency: opts.concurrency });
    this.baseConcurrency = opts.concurrency;
    this.done = new Promise<void>((resolve) => (this.doneResolve = resolve));
  }

  get interrupted(): boolean {
    return this.stopping;
  }

  /** Add tasks of a checked plan (deps may point forward within the batch). Throws E_CYCLE. */
  addPlan(tasks: ReadonlyArray<{ id: string; agent: string; deps: string[]; input?: unknown }>): void {
    // Insert in dependency order so every task's deps exist when it is added.
    const pending = new Map(tasks.map((t) => [t.id, t]));
    while (pending.size > 0) {
      let progressed = false;
      for (const [id, t] of pending) {
        if (t.deps.every((d) => this.graph.get(d) !== undefined)) {
          this.insert(t, false);
          pending.delete(id);
          progressed = true;
        }
      }
      if (!progressed) throw new AgentOSError('E_CYCLE', `plan has a cycle among: ${[...pending.keys()].join(', ')}`);
    }
    this.checkDone();
  }

  /**
   * Add one task while the run goes on. Throws AgentOSError (nothing changes) on bad input: E_USAGE
   * (stopping, or over maxDynamicTasks), E_DUPLICATE_TASK, E_CYCLE, E_UNKNOWN_AGENT, E_UNKNOWN_DEPENDENCY.
   */
  addDynamic(t: NewTask, by?: string): TaskRecord {
    const deps = t.deps ?? [];
    if (this.stopping) throw new AgentOSError('E_USAGE', `run is stopping; task '${t.id}' not added`);
    if (this.dynamicAdded >= this.opts.maxDynamicTasks) throw new AgentOSError('E_USAGE', `run may add at most ${this.opts.maxDynamicTasks} tasks`);
    if (this.graph.get(t.id)) throw new AgentOSError('E_DUPLICATE_TASK', `duplicate task id '${t.id}'`);
    // A new task can only depend on tasks already in the graph, so the only cycle it can close is itself.
    if (deps.includes(t.id)) throw new AgentOSError('E_CYCLE', `task '${t.id}' depends on itself`);
    if (!this.policy.hasAgent(t.agent)) throw new AgentOSError('E_UNKNOWN_AGENT', `unknown agent '${t.agent}'`);
    for (const d of deps) if (!this.graph.get(d)) throw new AgentOSError('E_UNKNOWN_DEPENDENCY', `task '${t.id}' depends on unknown task '${d}'`);
    this.policy.chain(t.agent); // validates the agent and its fallbacks before anything changes
    this.dynamicAdded++;
    return this.insert({ ...t, deps }, true, by ?? null);
  }

  /**
   * Cancel a task: a pending or ready one is skipped at once; a running one has its attempt ended
   * (lease.cancel(): the local runner terminates the process without counting a restart) and ends
   * `skipped` with reason `cancelled`. Its dependents are skipped. Returns false when it had ended.
   */
  cancel(id: string, reason = 'cancelled'): boolean {
    const rec = this.graph.get(id);
    if (!rec || isTerminal(rec.state)) return false;
    rec.cancelled = true;
    rec.error = { kind: 'cancelled', message: reason };
    this.facts.record({ type: 'task.skipped', task: id, reason: `cancelled: ${reason}`, cancelled: true });
    this.setState(rec, 'skipped', { reason: `cancelled: ${reason}` });
    this.onTerminal(rec);
    this.leases.get(id)?.cancel();
    return true;
  }

  /** The configured concurrency (attempts running at once, not counting attempts parked in task.wait). */
  get concurrency(): number {
    return this.baseConcurrency;
  }

  /** Change the concurrency at run time (the resource monitor does). */
  setConcurrency(n: number): void {
    this.baseConcurrency = Math.max(1, Math.floor(n));
    this.queue.concurrency = this.baseConcurrency + this.parked;
  }

  /**
   * An attempt blocks in task.wait for other tasks: lend its global slot to them until it resumes, so a
   * waiting search can never starve its own candidates (even at concurrency 1). Returns the resume call.
   */
  park(): () => void {
    this.parked++;
    this.queue.concurrency = this.baseConcurrency + this.parked;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.parked--;
      this.queue.concurrency = this.baseConcurrency + this.parked;
    };
  }

  /** Subscribe to tasks reaching a terminal state; returns the unsubscribe function. */
  onTaskTerminal(listener: (rec: TaskRecord) => void): () => void {
    return this.finished.listen(listener);
  }

  /** Stop dispatching; running attempts are ended by the kernel's shutdown. */
  interrupt(): void {
    this.stopping = true;
    for (const wake of this.sleepers) wake();
    this.queue.clear();
  }

  /** Mark every unfinished task skipped (after an interrupt). */
  settleInterrupted(now: number): void {
    for (const rec of this.graph.tasks.values()) {
      if (isTerminal(rec.state)) continue;
      rec.error = { kind: 'interrupted', message: 'the run was interrupted before this task finished' };
      this.facts.record({ type: 'task.skipped', task: rec.id, reason: 'interrupted', cancelled: false });
      this.setState(rec, 'skipped', { reason: 'interrupted' }, now);
      this.finished.wake(rec);
    }
    this.checkDone();
  }

  /** Resolves with the task once it reached a final state. Rejects E_UNKNOWN_DEPENDENCY for no such task. */
  whenFinished(id: string): Promise<TaskRecord> {
    const rec = this.graph.get(id);
    if (!rec) return Promise.reject(new AgentOSError('E_UNKNOWN_DEPENDENCY', `no task '${id}'`));
    if (isTerminal(rec.state)) return Promise.resolve(rec);
    return this.finished.wait(id);
  }

  // ---- Dispatch: called by attempts.ts --------------------------------------------------------

  stopped(rec: TaskRecord): boolean {
    return this.stopping || rec.cancelled;
  }

  injectionFor(task: string, attempt: number, agent: string, agentAttempt: number): Fault | undefined {
    return injectionFor(this.opts.taskInjections, this.opts.injections, task, attempt, agent, agentAttempt);
  }

  started(rec: TaskRecord, agent: string, attempt: number, where: AttemptPlace, inject: Fault | undefined): void {
    this.facts.record({ type: 'attempt.started', task: rec.id, attempt, agent, pid: where.pid, instance: where.instance });
    const at = { agent, attempt, pid: where.pid, instance: where.instance };
    if (rec.state === 'ready') this.setState(rec, 'running', at);
    else this.events.emit({ type: 'task.state', task: rec.id, state: 'running', ...at });
    if (inject) this.events.emit({ type: 'fault.injected', task: rec.id, agent, attempt, fault: inject });
  }

  succeed(rec: TaskRecord, agent: string, attempt: number, pid: number, output: unknown): void {
    this.facts.record({ type: 'attempt.outcome', task: rec.id, attempt, agent, pid, ok: true });
    this.facts.record({ type: 'task.succeeded', task: rec.id, agent, output });
    rec.output = output;
    rec.served_by = agent;
    rec.error = null;
    this.setState(rec, 'succeeded', { agent, attempt, pid });
    this.onTerminal(rec);
  }

  recordFailure(rec: TaskRecord, agent: string, attempt: number, pid: number, o: Extract<AttemptOutcome, { ok: false }>): void {
    if (o.kind !== 'token_quota') this.facts.record({ type: 'attempt.outcome', task: rec.id, attempt, agent, pid, ok: false, kind: o.kind, message: o.message });
    rec.failures.push({ attempt, agent, kind: o.kind, message: o.message, pid, stack: o.stack });
    rec.error = { kind: o.kind, message: o.message };
    this.events.emit({ type: 'task.failure', task: rec.id, agent, attempt, kind: o.kind, message: o.message, pid });
  }

  fail(rec: TaskRecord): void {
    if (rec.state === 'ready') this.setState(rec, 'running', { agent: rec.agent, reason: 'no process available' });
    rec.error ??= { kind: 'crash', message: 'no attempt could be made' };
    this.facts.record({ type: 'task.failed', task: rec.id, kind: rec.error.kind, message: rec.error.message });
    this.setState(rec, 'failed', { agent: rec.agent, reason: rec.error.message });
    this.onTerminal(rec);
  }

  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  // ---- internals ------------------------------------------------------------------------------

  private insert(t: NewTask & { deps: string[] }, dynamic: boolean, spawnedBy: string | null = null): TaskRecord {
    const rec = this.graph.add(t, dynamic, spawnedBy);
    rec.timeoutMs = t.timeout_ms ?? null;
    rec.memoryMb = t.memory_mb ?? null;
    this.facts.record({ type: 'task.added', task: rec.id, agent: rec.agent, deps: rec.deps, input: rec.input, dynamic, spawned_by: spawnedBy, timeout_ms: rec.timeoutMs, memory_mb: rec.memoryMb });
    this.events.emit({ type: 'task.added', task: rec.id, agent: rec.agent, deps: rec.deps, dynamic });
    const blocker = this.graph.blockedBy(rec);
    if (blocker) this.skip(rec, blocker);
    else if (rec.unmet === 0) this.makeReady(rec);
    return rec;
  }

  private setState(rec: TaskRecord, to: TaskRecord['state'], extra: { agent?: string; attempt?: number; pid?: number; instance?: number; reason?: string } = {}, now = this.events.now()): void {
    this.graph.transition(rec, to, now);
    this.events.emit({ type: 'task.state', task: rec.id, state: to, ...extra });
  }

  private makeReady(rec: TaskRecord): void {
    this.setState(rec, 'ready');
    void executeTask(this, rec);
  }

  private skip(rec: TaskRecord, cause: TaskRecord): void {
    if (isTerminal(rec.state)) return;
    rec.error = null;
    const reason = `dependency ${cause.id} ${cause.state}`;
    this.facts.record({ type: 'task.skipped', task: rec.id, reason, cancelled: false });
    this.setState(rec, 'skipped', { reason });
    this.onTerminal(rec);
  }

  private onTerminal(rec: TaskRecord): void {
    this.finished.wake(rec);
    this.finished.notify(rec);
    for (const id of rec.dependents) {
      const dep = this.graph.get(id)!;
      if (dep.state !== 'pending') continue;
      if (rec.state === 'succeeded') {
        if (--dep.unmet === 0) this.makeReady(dep);
      } else {
        this.skip(dep, rec);
      }
    }
    this.checkDone();
  }

  private checkDone(): void {
    if (this.graph.finished) this.doneResolve?.();
  }
}
