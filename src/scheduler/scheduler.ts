/**
 * Runs a task DAG: dispatches ready tasks in parallel up to the concurrency limit, retries failed
 * attempts with backoff, hands exhausted tasks to the fallback chain, skips dependents of failures, and
 * accepts tasks added while the run is going (dynamic insertion). It never sees a process: attempts go
 * through an AttemptRunner, the kernel's hooks through a SchedulingPolicy, and every fact it establishes
 * through a FactSink before it takes effect (all three in src/kernel-api/). The path of a task is in
 * core.ts; this file adds the controls used while the run goes (insertion, cancel, concurrency, stop).
 */
import { AgentOSError } from '../errors.js';
import { SchedulerCore } from './core.js';
import { isTerminal, type AttemptFailure, type TaskError, type TaskRecord } from './task-graph.js';
import type { NewTask, RestoredTask } from './types.js';

export type { Injection, TaskInjection } from './injections.js';
export type { NewTask, RestoredTask, SchedulerHost, SchedulerOptions } from './types.js';

export class Scheduler extends SchedulerCore {
  private dynamicAdded = 0;

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
    this.facts.record({ type: 'task.skipped', task: id, reason: `cancelled: ${reason}`, kind: 'cancelled', cause: null });
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
      this.facts.record({ type: 'task.skipped', task: rec.id, reason: 'interrupted', kind: 'interrupted', cause: null });
      this.setState(rec, 'skipped', { reason: 'interrupted' }, now);
      this.finished.wake(rec);
    }
    this.checkDone();
  }

  /** Resolves with the task once it reached a final state. Rejects E_UNKNOWN_DEPENDENCY for no such task. */
  whenFinished(id: string): Promise<TaskRecord> {
    const rec = this.graph.get(id);
    if (!rec) return Promise.reject(new AgentOSError('E_UNKNOWN_DEPENDENCY', `no task '${id}'`));
    // A success not yet durable is not announced: the waiter is woken by onTerminal once it is.
    if (isTerminal(rec.state) && !rec.committing) return Promise.resolve(rec);
    return this.finished.wait(id);
  }

  /**
   * A resumed run: put back the tasks a journal holds, in the order they were added (a task's deps come
   * before it). Final tasks keep their state and output and never run again; pending ones run once their
   * dependencies have succeeded. Records no `task.added` fact: they are in the journal already.
   */
  restore(tasks: Iterable<RestoredTask>): void {
    const now = this.events.now();
    const pending: TaskRecord[] = [];
    for (const t of tasks) {
      const rec = this.graph.add({ id: t.id, agent: t.agent, deps: t.deps, input: t.input }, t.dynamic, t.spawned_by);
      rec.timeoutMs = t.timeout_ms;
      rec.memoryMb = t.memory_mb;
      rec.attempts = t.attempts;
      rec.counted = { ...t.counted };
      rec.failures = t.failures.map((f) => ({ ...f, kind: f.kind as AttemptFailure['kind'] }));
      if (t.dynamic) this.dynamicAdded++;
      this.events.emit({ type: 'task.added', task: rec.id, agent: rec.agent, deps: rec.deps, dynamic: rec.dynamic });
      if (t.status === 'pending') {
        pending.push(rec);
        continue;
      }
      rec.output = t.output;
      rec.served_by = t.served_by;
      rec.error = t.error as TaskError | null;
      rec.cancelled = t.status === 'skipped' && t.error?.kind === 'cancelled';
      this.graph.settle(rec, t.status, now);
      this.events.emit({ type: 'task.state', task: rec.id, state: t.status, ...(t.served_by ? { agent: t.served_by } : {}) });
    }
    for (const rec of pending) {
      if (rec.state !== 'pending') continue;
      // A dependency failed for good but the kill came before its dependents' skips were recorded.
      const blocker = this.graph.blockedBy(rec);
      if (blocker) {
        this.skip(rec, blocker);
        for (const { task, cause } of this.graph.blockedDependents(rec)) this.skip(task, cause);
      } else if (rec.unmet === 0) this.makeReady(rec);
    }
    this.checkDone();
  }
}
