/**
 * Runs a task DAG across agent pools: dispatches ready tasks in parallel up to the concurrency limit,
 * retries failed attempts with backoff, hands exhausted tasks to the fallback chain, skips dependents of
 * failures, and accepts tasks added while the run is going (dynamic insertion).
 */
import PQueue from 'p-queue';
import type { AgentSpec } from '../config/agent-spec.js';
import { AgentOSError } from '../errors.js';
import type { EventLog } from '../observe/events.js';
import { BRAND, type Fault } from '../protocol/messages.js';
import type { AgentPool } from '../kernel/agent-pool.js';
import type { AgentProcess } from '../kernel/agent-process.js';
import { retryDelay } from './backoff.js';
import { TaskGraph, findCycle, formatCycle, formatIds, isTerminal, topologicalOrder, type TaskRecord } from './task-graph.js';

export interface Injection {
  agent: string;
  fault: Fault;
  /** The agent's own attempt number on a task (1-based); undefined: every attempt. */
  attempt: number | undefined;
}

/** A fault for one task (stress runs): committed on the task's N-th attempt, whichever agent runs it. */
export interface TaskInjection {
  fault: Fault;
  /** The task's attempt number (1-based, across fallbacks). */
  attempt: number;
}

export interface Executor {
  /** The agent and its fallbacks, in order. */
  chain(agent: string): AgentSpec[];
  pool(agent: string): AgentPool;
  hasAgent(agent: string): boolean;
  /** A refusal message when the agent may take no more work (token budget spent); undefined: go. */
  admit?(agent: string): string | undefined;
  /** After a successful attempt of an agent with a token_budget: count its output. */
  settled?(agent: string, task: string, acb: AgentProcess['acb'], output: unknown): Promise<void>;
}

export interface SchedulerOptions {
  concurrency: number;
  injections: readonly Injection[];
  /** Per-task faults by task id (checked before the per-agent ones). @default none */
  taskInjections?: ReadonlyMap<string, TaskInjection>;
  /** Most tasks a run may add while it runs. */
  maxDynamicTasks: number;
}

export class Scheduler {
  readonly graph = new TaskGraph();
  readonly queue: PQueue;
  private interrupted = false;
  private dynamicAdded = 0;
  private requestSeq = 0;
  private readonly sleepers = new Set<() => void>();
  private readonly finishWaiters = new Map<string, Array<(rec: TaskRecord) => void>>();
  /** The process running each task's current attempt (so a cancel can end it). */
  private readonly running = new Map<string, AgentProcess>();
  /** Called whenever a task reaches a terminal state (task.wait uses it). */
  private readonly terminalListeners = new Set<(rec: TaskRecord) => void>();
  private baseConcurrency: number;
  /** Attempts blocked in task.wait; each lends its global slot (see park()). */
  private parked = 0;
  private doneResolve: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(
    private readonly exec: Executor,
    private readonly events: EventLog,
    private readonly opts: SchedulerOptions,
  ) {
    this.queue = new PQueue({ concurrency: opts.concurrency });
    this.baseConcurrency = opts.concurrency;
    this.done = new Promise<void>((resolve) => (this.doneResolve = resolve));
  }

  /** Add tasks of a checked plan (deps may point forward within the batch). */
  addPlan(tasks: ReadonlyArray<{ id: string; agent: string; deps: string[]; input?: unknown }>): void {
    // Insert in dependency order so every task's deps exist when it is added (linear for any listing order).
    const sorted = topologicalOrder(tasks, (id) => this.graph.get(id) !== undefined);
    if ('stuck' in sorted) {
      const cycle = findCycle(sorted.stuck);
      throw new AgentOSError('E_CYCLE', cycle ? `plan has a dependency cycle: ${formatCycle(cycle)}` : `plan has tasks whose dependencies never exist: ${formatIds(sorted.stuck.map((t) => t.id))}`);
    }
    for (const t of sorted.order) this.insert(t, false);
    this.checkDone();
  }

  /** Add one task while the run goes on. Throws AgentOSError (nothing changes) on bad input. */
  addDynamic(t: { id: string; agent: string; deps?: string[]; input?: unknown; timeout_ms?: number | undefined; memory_mb?: number | undefined }, by?: string): TaskRecord {
    const deps = t.deps ?? [];
    if (this.interrupted) throw new AgentOSError('E_USAGE', `run is stopping; task '${t.id}' not added`);
    if (this.dynamicAdded >= this.opts.maxDynamicTasks) throw new AgentOSError('E_USAGE', `run may add at most ${this.opts.maxDynamicTasks} tasks`);
    if (this.graph.get(t.id)) throw new AgentOSError('E_DUPLICATE_TASK', `duplicate task id '${t.id}'`);
    // A new task can only depend on tasks already in the graph, so the only cycle it can close is itself.
    if (deps.includes(t.id)) throw new AgentOSError('E_CYCLE', `task '${t.id}' depends on itself`);
    if (!this.exec.hasAgent(t.agent)) throw new AgentOSError('E_UNKNOWN_AGENT', `unknown agent '${t.agent}'`);
    for (const d of deps) if (!this.graph.get(d)) throw new AgentOSError('E_UNKNOWN_DEPENDENCY', `task '${t.id}' depends on unknown task '${d}'`);
    this.exec.chain(t.agent); // validates the agent and its fallbacks before anything changes
    this.dynamicAdded++;
    return this.insert({ ...t, deps }, true, by ?? null);
  }

  /**
   * Cancel a task: a pending or ready one is skipped at once; a running one has its process group
   * terminated (the pool replaces the process without counting a restart) and ends `skipped` with
   * reason `cancelled`. Its dependents are skipped. Returns false when the task had already ended.
   */
  cancel(id: string, reason = 'cancelled'): boolean {
    const rec = this.graph.get(id);
    if (!rec || isTerminal(rec.state)) return false;
    rec.cancelled = true;
    rec.error = { kind: 'cancelled', message: reason };
    this.setState(rec, 'skipped', { reason: `cancelled: ${reason}` });
    this.onTerminal(rec);
    this.running.get(id)?.terminate('cancelled');
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
    this.terminalListeners.add(listener);
    return () => this.terminalListeners.delete(listener);
  }

  /** Stop dispatching; running attempts are ended by the kernel's shutdown. */
  interrupt(): void {
    this.interrupted = true;
    for (const wake of this.sleepers) wake();
    this.queue.clear();
  }

  /** Mark every unfinished task skipped (after an interrupt). */
  settleInterrupted(now: number): void {
    for (const rec of this.graph.tasks.values()) {
      if (isTerminal(rec.state)) continue;
      rec.error = { kind: 'interrupted', message: 'the run was interrupted before this task finished' };
      this.setState(rec, 'skipped', { reason: 'interrupted' }, now);
      const waiters = this.finishWaiters.get(rec.id);
      this.finishWaiters.delete(rec.id);
      for (const w of waiters ?? []) w(rec);
    }
    this.checkDone();
  }

  private insert(t: { id: string; agent: string; deps: string[]; input?: unknown; timeout_ms?: number | undefined; memory_mb?: number | undefined }, dynamic: boolean, spawnedBy: string | null = null): TaskRecord {
    const rec = this.graph.add(t, dynamic, spawnedBy);
    rec.timeoutMs = t.timeout_ms ?? null;
    rec.memoryMb = t.memory_mb ?? null;
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
    void this.execute(rec);
  }

  /** Skip a task blocked by `cause`; its own dependents are the caller's (onTerminal walks them iteratively). */
  private skip(rec: TaskRecord, cause: TaskRecord): void {
    if (isTerminal(rec.state)) return;
    rec.error = null;
    this.setState(rec, 'skipped', { reason: `dependency ${cause.id} ${cause.state}` });
    this.notifyTerminal(rec);
    this.checkDone();
  }

  /** Resolves with the task once it reached a final state. */
  whenFinished(id: string): Promise<TaskRecord> {
    const rec = this.graph.get(id);
    if (!rec) return Promise.reject(new AgentOSError('E_UNKNOWN_DEPENDENCY', `no task '${id}'`));
    if (isTerminal(rec.state)) return Promise.resolve(rec);
    return new Promise((resolve) => {
      const list = this.finishWaiters.get(id);
      if (list) list.push(resolve);
      else this.finishWaiters.set(id, [resolve]);
    });
  }

  private onTerminal(rec: TaskRecord): void {
    this.notifyTerminal(rec);
    if (rec.state === 'succeeded') {
      for (const id of rec.dependents) {
        const dep = this.graph.get(id)!;
        if (dep.state === 'pending' && --dep.unmet === 0) this.makeReady(dep);
      }
    } else {
      // A loop, not recursion: the failed head of a 100,000-task chain skips them all without a deep stack.
      for (const { task, cause } of this.graph.blockedDependents(rec)) this.skip(task, cause);
    }
    this.checkDone();
  }

  private notifyTerminal(rec: TaskRecord): void {
    const waiters = this.finishWaiters.get(rec.id);
    if (waiters) {
      this.finishWaiters.delete(rec.id);
      for (const w of waiters) w(rec);
    }
    for (const l of [...this.terminalListeners]) {
      try {
        l(rec);
      } catch {
        // a listener's bug must not stop the scheduler
      }
    }
  }

  private checkDone(): void {
    if (this.graph.finished) this.doneResolve?.();
  }

  private injectionFor(task: string, attempt: number, agent: string, agentAttempt: number): Fault | undefined {
    const byTask = this.opts.taskInjections?.get(task);
    if (byTask && byTask.attempt === attempt) return byTask.fault;
    for (const inj of this.opts.injections) {
      if (inj.agent === agent && (inj.attempt === undefined || inj.attempt === agentAttempt)) return inj.fault;
    }
    return undefined;
  }

  private sleep(ms: number): Promise<void> {
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

  /** One attempt on a reserved process, inside a global slot. Resolves true when the task succeeded. */
  private async attempt(rec: TaskRecord, spec: AgentSpec, proc: AgentProcess, agentAttempt: number): Promise<boolean> {
    if (rec.cancelled) {
      // Cancelled while waiting for a slot: never start the attempt.
      this.exec.pool(spec.name).release(proc);
      return false;
    }
    const attempt = ++rec.attempts;
    const where = { agent: spec.name, attempt, pid: proc.pid, instance: proc.acb.instance };
    if (rec.state === 'ready') this.setState(rec, 'running', where);
    else this.events.emit({ type: 'task.state', task: rec.id, state: 'running', ...where });
    const inject = this.injectionFor(rec.id, attempt, spec.name, agentAttempt);
    if (inject) this.events.emit({ type: 'fault.injected', task: rec.id, agent: spec.name, attempt, fault: inject });
    const msg = { ag: BRAND, type: 'task', requestId: `r${++this.requestSeq}`, taskId: rec.id, attempt, input: rec.input, deps: this.graph.depOutputs(rec), inject } as const;
    this.running.set(rec.id, proc);
    // A task may ask for a tighter time limit and memory quota than its agent's (ctx.spawn); the quota
    // sampler reads the quota from the ACB.
    proc.acb.quota_mb = rec.memoryMb === null ? spec.memory_mb : Math.min(rec.memoryMb, spec.memory_mb);
    const outcome = await proc.run(msg, rec.timeoutMs === null ? spec.timeout_ms : Math.min(rec.timeoutMs, spec.timeout_ms));
    this.running.delete(rec.id);
    proc.acb.quota_mb = spec.memory_mb;
    this.exec.pool(spec.name).release(proc);
    if (this.interrupted || rec.cancelled) return false;
    if (outcome.ok) {
      if (spec.token_budget !== undefined) await this.exec.settled?.(spec.name, rec.id, proc.acb, outcome.output);
      rec.output = outcome.output;
      rec.served_by = spec.name;
      rec.error = null;
      this.setState(rec, 'succeeded', { agent: spec.name, attempt, pid: proc.pid });
      this.onTerminal(rec);
      return true;
    }
    rec.failures.push({ attempt, agent: spec.name, kind: outcome.kind, message: outcome.message, pid: proc.pid, stack: outcome.stack });
    rec.error = { kind: outcome.kind, message: outcome.message };
    this.events.emit({ type: 'task.failure', task: rec.id, agent: spec.name, attempt, kind: outcome.kind, message: outcome.message, pid: proc.pid });
    return false;
  }

  private async execute(rec: TaskRecord): Promise<void> {
    const chain = this.exec.chain(rec.agent);
    for (let c = 0; c < chain.length; c++) {
      const spec = chain[c]!;
      if (c > 0) this.events.emit({ type: 'task.fallback', task: rec.id, from: chain[c - 1]!.name, to: spec.name });
      for (let agentAttempt = 1; agentAttempt <= spec.retry.max_attempts; agentAttempt++) {
        if (agentAttempt > 1) {
          const delay = retryDelay(spec.retry, agentAttempt - 1);
          this.events.emit({ type: 'task.retry', task: rec.id, agent: spec.name, attempt: rec.attempts + 1, delay_ms: delay });
          await this.sleep(delay);
        }
        if (this.interrupted || rec.cancelled) return;
        const refusal = this.exec.admit?.(spec.name);
        if (refusal !== undefined) {
          // Budget spent: retrying this agent is pointless; the fallback (if any) takes over.
          rec.failures.push({ attempt: rec.attempts, agent: spec.name, kind: 'token_quota', message: refusal, pid: 0 });
          rec.error = { kind: 'token_quota', message: refusal };
          this.events.emit({ type: 'task.failure', task: rec.id, agent: spec.name, attempt: rec.attempts, kind: 'token_quota', message: refusal, pid: 0 });
          break;
        }
        const pool = this.exec.pool(spec.name);
        let proc;
        try {
          proc = await pool.acquire({ retry: rec.attempts > 0 });
        } catch (err) {
          if (this.interrupted) return;
          // Circuit open: this agent takes no more work; try the next in the chain.
          rec.error = { kind: 'crash', message: (err as Error).message };
          break;
        }
        if (this.interrupted || rec.cancelled) {
          pool.release(proc);
          return;
        }
        // The attempt holds a global slot from its start until its outcome is recorded, so the event
        // order never shows more attempts running than the concurrency allows.
        const succeeded = await this.queue.add(() => this.attempt(rec, spec, proc, agentAttempt));
        if (succeeded || this.interrupted || rec.cancelled) return;
        // A sandbox denial is the agent's configuration speaking: another attempt would be denied again.
        if (rec.failures[rec.failures.length - 1]?.kind === 'sandbox') break;
      }
    }
    if (this.interrupted || rec.cancelled) return;
    if (rec.state === 'ready') this.setState(rec, 'running', { agent: rec.agent, reason: 'no process available' });
    rec.error ??= { kind: 'crash', message: 'no attempt could be made' };
    this.setState(rec, 'failed', { agent: rec.agent, reason: rec.error.message });
    this.onTerminal(rec);
  }
}
