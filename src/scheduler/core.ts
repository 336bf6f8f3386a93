/**
 * How a task runs, start to end - the path of every task: added (addPlan/insert), ready when its last
 * dependency succeeded, then through its agent's fallback chain, each agent up to `retry.max_attempts`
 * attempts with backoff; an attempt leases capacity from the AttemptRunner, then a global slot, runs,
 * records its outcome (facts first, then state and events) and gives both back; a final state releases or
 * skips the dependents. Never sees a process. The controls used from outside while the run goes (dynamic
 * insertion, cancel, concurrency, interrupt) are in scheduler.ts.
 */
import PQueue from 'p-queue';
import type { AgentSpec } from '../config/agent-spec.js';
import { AgentOSError } from '../errors.js';
import type { AttemptLease, AttemptOutcome, AttemptPlace, AttemptRunner } from '../kernel-api/attempt-runner.js';
import type { EventLog } from '../kernel-api/events.js';
import { NO_FACTS, type FactSink, type SchedulingPolicy } from '../kernel-api/scheduling.js';
import type { Fault } from '../protocol/messages.js';
import { retryDelay } from './backoff.js';
import { FinishWaiters } from './finish-waiters.js';
import { injectionFor } from './injections.js';
import { TaskGraph, findCycle, formatCycle, formatIds, isTerminal, topologicalOrder, type TaskRecord } from './task-graph.js';
import type { NewTask, SchedulerHost, SchedulerOptions } from './types.js';

export class SchedulerCore {
  readonly graph = new TaskGraph();
  readonly queue: PQueue;
  readonly policy: SchedulingPolicy;
  readonly runner: AttemptRunner;
  readonly leases = new Map<string, AttemptLease>();
  protected readonly facts: FactSink;
  protected stopping = false;
  protected readonly sleepers = new Set<() => void>();
  protected readonly finished = new FinishWaiters();
  protected baseConcurrency: number;
  /** Why the fact sink failed (the run stops), or undefined. */
  factError: unknown;
  /** Attempts blocked in task.wait; each lends its global slot (see park()). */
  protected parked = 0;
  private doneResolve: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(
    host: SchedulerHost,
    readonly events: EventLog,
    protected readonly opts: SchedulerOptions,
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
    // Insert in dependency order so every task's deps exist when it is added (linear for any listing order).
    const sorted = topologicalOrder(tasks, (id) => this.graph.get(id) !== undefined);
    if ('stuck' in sorted) {
      const cycle = findCycle(sorted.stuck);
      throw new AgentOSError('E_CYCLE', cycle ? `plan has a dependency cycle: ${formatCycle(cycle)}` : `plan has tasks whose dependencies never exist: ${formatIds(sorted.stuck.map((t) => t.id))}`);
    }
    for (const t of sorted.order) this.insert(t, false);
    this.checkDone();
  }

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

  /**
   * A successful attempt: its facts first; the state at once; the dependents, the waiters and the run's
   * end only once the facts are durable. Returns that wait (undefined: nothing to wait for): the caller
   * holds the attempt's global slot until then - an attempt is in flight until its result is durable, so
   * a kill loses at most `concurrency` results - while its process is already free for other work.
   */
  succeed(rec: TaskRecord, agent: string, attempt: number, pid: number, output: unknown): Promise<void> | undefined {
    this.facts.record({ type: 'attempt.outcome', task: rec.id, attempt, agent, pid, ok: true });
    this.facts.record({ type: 'task.succeeded', task: rec.id, attempt, agent, output });
    rec.output = output;
    rec.served_by = agent;
    rec.error = null;
    rec.committing = true;
    this.setState(rec, 'succeeded', { agent, attempt, pid });
    const apply = (): void => {
      rec.committing = false;
      this.onTerminal(rec);
    };
    const durable = this.facts.durable?.();
    if (!durable) {
      apply();
      return undefined;
    }
    return durable.then(apply, (err: unknown) => this.factsFailed(err));
  }

  /** Resolves once every fact recorded so far is durable; undefined when nothing waits (acknowledge at once). */
  factsDurable(): Promise<void> | undefined {
    return this.facts.durable?.();
  }

  /** The fact sink cannot keep the run's record: stop the run (the kernel reports it as fatal). */
  protected factsFailed(err: unknown): void {
    if (this.factError !== undefined) return;
    this.factError = err;
    this.opts.onFactsFailed?.(err);
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

  /** Run `rec` through its chain until it succeeds, fails for good, is cancelled or the run stops. */
  protected async executeTask(rec: TaskRecord): Promise<void> {
    const chain = this.policy.chain(rec.agent);
    for (let c = 0; c < chain.length; c++) {
      const spec = chain[c]!;
      if (c > 0) this.events.emit({ type: 'task.fallback', task: rec.id, from: chain[c - 1]!.name, to: spec.name });
      // A resumed task keeps the attempts it already spent on this agent (interrupted ones are not counted).
      const spent = rec.counted[spec.name] ?? 0;
      for (let agentAttempt = spent + 1; agentAttempt <= spec.retry.max_attempts; agentAttempt++) {
        if (agentAttempt > 1) {
          const delay = retryDelay(spec.retry, agentAttempt - 1);
          this.events.emit({ type: 'task.retry', task: rec.id, agent: spec.name, attempt: rec.attempts + 1, delay_ms: delay });
          await this.sleep(delay);
        }
        if (this.stopped(rec)) return;
        const refusal = this.policy.admit?.(spec.name);
        if (refusal !== undefined) {
          // Budget spent: retrying this agent is pointless; the fallback (if any) takes over.
          this.recordFailure(rec, spec.name, rec.attempts, 0, { ok: false, kind: 'token_quota', message: refusal });
          break;
        }
        let lease: AttemptLease;
        try {
          lease = await this.runner.acquire(spec.name, { retry: rec.attempts > 0 });
        } catch (err) {
          if (this.interrupted) return;
          // Circuit open: this agent takes no more work; try the next in the chain.
          rec.error = { kind: 'crash', message: (err as Error).message };
          break;
        }
        if (this.stopped(rec)) {
          lease.release();
          return;
        }
        // The attempt holds a global slot from its start until its outcome is recorded, so the event
        // order never shows more attempts running than the concurrency allows.
        const result = await this.queue.add(() => this.runAttempt(rec, spec, lease, agentAttempt));
        if (result === 'succeeded' || this.stopped(rec)) return;
        // A lost cluster node is not the agent's failure: run again at once, without spending an attempt.
        if (result === 'lost') {
          agentAttempt--;
          continue;
        }
        // A sandbox denial is the agent's configuration speaking: another attempt would be denied again.
        if (rec.failures[rec.failures.length - 1]?.kind === 'sandbox') break;
      }
    }
    if (this.stopped(rec)) return;
    this.fail(rec);
  }

  /**
   * One attempt on a leased place, inside a global slot (retain -> run -> outcome -> release). Resolves
   * `succeeded`, `failed`, or `lost` (kind node_lost: the cluster node running it died; not counted).
   */
  private async runAttempt(rec: TaskRecord, spec: AgentSpec, lease: AttemptLease, agentAttempt: number): Promise<'succeeded' | 'failed' | 'lost'> {
    if (rec.cancelled) {
      // Cancelled while waiting for a slot: never start the attempt.
      lease.release();
      return 'failed';
    }
    const attempt = ++rec.attempts;
    const inject = this.injectionFor(rec.id, attempt, spec.name, agentAttempt);
    this.leases.set(rec.id, lease);
    let outcome: AttemptOutcome;
    try {
      outcome = await lease.run(
        {
          taskId: rec.id,
          key: this.opts.runId === undefined ? rec.id : `${this.opts.runId}:${rec.id}`,
          attempt,
          input: rec.input,
          deps: this.graph.depOutputs(rec),
          inject,
          // A task may ask for a tighter time limit and memory quota than its agent's (ctx.spawn).
          timeoutMs: rec.timeoutMs === null ? spec.timeout_ms : Math.min(rec.timeoutMs, spec.timeout_ms),
          memoryMb: rec.memoryMb === null ? spec.memory_mb : Math.min(rec.memoryMb, spec.memory_mb),
        },
        { started: (where) => this.started(rec, spec.name, attempt, where, inject) },
      );
    } finally {
      this.leases.delete(rec.id);
      lease.release();
    }
    if (this.interrupted || rec.cancelled) return 'failed';
    if (outcome.ok) {
      if (spec.token_budget !== undefined) await this.policy.settled?.(spec.name, rec.id, lease.place, outcome.output);
      await this.succeed(rec, spec.name, attempt, lease.place.pid, outcome.output);
      return 'succeeded';
    }
    this.recordFailure(rec, spec.name, attempt, lease.place.pid, outcome);
    if (outcome.kind === 'node_lost') return 'lost';
    rec.counted[spec.name] = (rec.counted[spec.name] ?? 0) + 1;
    return 'failed';
  }

  protected insert(t: NewTask & { deps: string[] }, dynamic: boolean, spawnedBy: string | null = null): TaskRecord {
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

  protected setState(rec: TaskRecord, to: TaskRecord['state'], extra: { agent?: string; attempt?: number; pid?: number; instance?: number; reason?: string } = {}, now = this.events.now()): void {
    this.graph.transition(rec, to, now);
    this.events.emit({ type: 'task.state', task: rec.id, state: to, ...extra });
  }

  protected makeReady(rec: TaskRecord): void {
    this.setState(rec, 'ready');
    void this.executeTask(rec);
  }

  /** Skip a task blocked by `cause`; its own dependents are the caller's (onTerminal walks them iteratively). */
  protected skip(rec: TaskRecord, cause: TaskRecord): void {
    if (isTerminal(rec.state)) return;
    rec.error = null;
    const reason = `dependency ${cause.id} ${cause.state}`;
    this.facts.record({ type: 'task.skipped', task: rec.id, reason, kind: 'dependency', cause: cause.id });
    this.setState(rec, 'skipped', { reason });
    this.finished.wake(rec);
    this.finished.notify(rec);
  }

  protected onTerminal(rec: TaskRecord): void {
    this.finished.wake(rec);
    this.finished.notify(rec);
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

  protected checkDone(): void {
    if (this.graph.finished) this.doneResolve?.();
  }
}
