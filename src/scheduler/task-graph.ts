/**
 * The task DAG and each task's lifecycle: pending -> ready -> running -> succeeded | failed | skipped.
 * Transitions outside that machine throw (a kernel bug, never user input). A failed or skipped task
 * skips its dependents transitively; unrelated branches go on.
 * Every walk here is iterative and linear: plans of any shape (a 100,000-task chain, any listing order)
 * must neither overflow the stack nor take quadratic time.
 */
import type { TaskState } from '../kernel-api/events.js';
import type { FailureKind } from '../protocol/messages.js';

export interface AttemptFailure {
  attempt: number;
  agent: string;
  /** `interrupted`: the kernel stopped or died while it ran (from the journal on resume). */
  kind: FailureKind | 'interrupted';
  message: string;
  pid: number;
  /** Stack of a thrown error, carried over from the child. */
  stack?: string | undefined;
}

export interface TaskError {
  kind: FailureKind | 'interrupted' | 'dependency';
  message: string;
}

export interface TaskRecord {
  id: string;
  agent: string;
  deps: string[];
  input: unknown;
  dynamic: boolean;
  /** The task whose handler added this one (ctx.spawn); null for plan tasks. */
  spawnedBy: string | null;
  /** Set by Scheduler.cancel(): the task ends `skipped` with reason `cancelled`, whatever it was doing. */
  cancelled: boolean;
  /** Attempt time limit of this task (ctx.spawn timeout_ms), capped by the agent's; null: the agent's. */
  timeoutMs: number | null;
  /** Memory quota of this task's attempts (ctx.spawn memory_mb), capped by the agent's; null: the agent's. */
  memoryMb: number | null;
  state: TaskState;
  attempts: number;
  /** Attempts per agent that count against its retry.max_attempts (interrupted ones do not). */
  counted: Record<string, number>;
  /** Succeeded, and its facts are being made durable: dependents and waiters are told once they are. */
  committing: boolean;
  served_by: string | null;
  output: unknown;
  error: TaskError | null;
  failures: AttemptFailure[];
  startedAt: number | null;
  endedAt: number | null;
  dependents: string[];
  /** Dependencies not yet succeeded. */
  unmet: number;
}

const ALLOWED: Record<TaskState, readonly TaskState[]> = {
  pending: ['ready', 'skipped'],
  ready: ['running', 'skipped'],
  running: ['succeeded', 'failed', 'skipped'],
  succeeded: [],
  failed: [],
  skipped: [],
};

export function isTerminal(s: TaskState): boolean {
  return s === 'succeeded' || s === 'failed' || s === 'skipped';
}

export class TaskGraph {
  readonly tasks = new Map<string, TaskRecord>();
  private terminal = 0;

  get size(): number {
    return this.tasks.size;
  }

  get finished(): boolean {
    return this.terminal === this.tasks.size;
  }

  get(id: string): TaskRecord | undefined {
    return this.tasks.get(id);
  }

  /** Add a task whose deps are already in the graph. Returns it; its state tells whether it is ready. */
  add(spec: { id: string; agent: string; deps: string[]; input?: unknown }, dynamic: boolean, spawnedBy: string | null = null): TaskRecord {
    const rec: TaskRecord = {
      id: spec.id,
      agent: spec.agent,
      deps: [...spec.deps],
      input: spec.input ?? null,
      dynamic,
      spawnedBy,
      cancelled: false,
      timeoutMs: null,
      memoryMb: null,
      state: 'pending',
      attempts: 0,
      counted: {},
      committing: false,
      served_by: null,
      output: null,
      error: null,
      failures: [],
      startedAt: null,
      endedAt: null,
      dependents: [],
      unmet: 0,
    };
    this.tasks.set(rec.id, rec);
    for (const d of rec.deps) {
      const dep = this.tasks.get(d)!;
      dep.dependents.push(rec.id);
      if (dep.state !== 'succeeded') rec.unmet++;
    }
    return rec;
  }

  transition(rec: TaskRecord, to: TaskState, now: number): void {
    if (!ALLOWED[rec.state].includes(to)) throw new Error(`illegal task transition ${rec.id}: ${rec.state} -> ${to}`);
    rec.state = to;
    if (to === 'running') rec.startedAt ??= now;
    if (isTerminal(to)) {
      rec.endedAt = now;
      this.terminal++;
    }
  }

  /** Put a restored task straight into the final state a journal recorded (resume). */
  settle(rec: TaskRecord, to: 'succeeded' | 'failed' | 'skipped', now: number): void {
    if (rec.state !== 'pending') throw new Error(`illegal restore of ${rec.id}: ${rec.state} -> ${to}`);
    rec.state = to;
    rec.endedAt = now;
    this.terminal++;
  }

  /** A dependency of `rec` failed or was skipped: whether `rec` itself must be skipped. */
  blockedBy(rec: TaskRecord): TaskRecord | undefined {
    for (const d of rec.deps) {
      const dep = this.tasks.get(d)!;
      if (dep.state === 'failed' || dep.state === 'skipped') return dep;
    }
    return undefined;
  }

  /**
   * Every pending task that `root` (failed or skipped) blocks, transitively, each with the task that
   * blocks it, breadth first (a cause always comes before the tasks it blocks). Iterative.
   */
  blockedDependents(root: TaskRecord): Array<{ task: TaskRecord; cause: TaskRecord }> {
    const out: Array<{ task: TaskRecord; cause: TaskRecord }> = [];
    const seen = new Set<string>([root.id]);
    const queue = [root];
    for (let k = 0; k < queue.length; k++) {
      const cause = queue[k]!;
      for (const id of cause.dependents) {
        if (seen.has(id)) continue;
        const task = this.tasks.get(id)!;
        if (task.state !== 'pending') continue;
        seen.add(id);
        out.push({ task, cause });
        queue.push(task);
      }
    }
    return out;
  }

  /** Outputs of a task's dependencies, by task id. */
  depOutputs(rec: TaskRecord): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const d of rec.deps) out[d] = this.tasks.get(d)!.output;
    return out;
  }
}

export { findCycle, formatCycle, formatIds, topologicalOrder } from '../lib/graph.js';
