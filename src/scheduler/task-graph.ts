/**
 * The task DAG and each task's lifecycle: pending -> ready -> running -> succeeded | failed | skipped.
 * Transitions outside that machine throw (a kernel bug, never user input). A failed or skipped task
 * skips its dependents transitively; unrelated branches go on.
 * Every walk here is iterative and linear: plans of any shape (a 100,000-task chain, any listing order)
 * must neither overflow the stack nor take quadratic time.
 */
import type { TaskState } from '../observe/events.js';
import type { FailureKind } from '../protocol/messages.js';

export interface AttemptFailure {
  attempt: number;
  agent: string;
  kind: FailureKind;
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

/**
 * The tasks in an order where each comes after its dependencies (Kahn's algorithm, O(tasks + deps) for
 * any listing order). Deps outside `tasks` must satisfy `known` (already in the graph). Returns
 * `{ stuck }`, the tasks that can never be placed, when there is a cycle or an unknown dependency.
 */
export function topologicalOrder<T extends { id: string; deps: readonly string[] }>(tasks: readonly T[], known: (id: string) => boolean): { order: T[] } | { stuck: T[] } {
  const index = new Map<string, number>();
  tasks.forEach((t, i) => index.set(t.id, i));
  const waiting = new Array<number>(tasks.length).fill(0);
  const dependents: number[][] = tasks.map(() => []);
  tasks.forEach((t, i) => {
    for (const d of t.deps) {
      const j = index.get(d);
      if (j !== undefined) dependents[j]!.push(i);
      // an unknown dependency can never be met: the task stays waiting
      if (j !== undefined || !known(d)) waiting[i]!++;
    }
  });
  const order: number[] = [];
  tasks.forEach((_, i) => {
    if (waiting[i] === 0) order.push(i);
  });
  for (let k = 0; k < order.length; k++) {
    for (const i of dependents[order[k]!]!) if (--waiting[i]! === 0) order.push(i);
  }
  if (order.length === tasks.length) return { order: order.map((i) => tasks[i]!) };
  return { stuck: tasks.filter((_, i) => waiting[i]! > 0) };
}

/** A cycle as a list of task ids (first repeated at the end), or undefined. Iterative DFS, linear. */
export function findCycle(tasks: ReadonlyArray<{ id: string; deps: readonly string[] }>): string[] | undefined {
  const deps = new Map(tasks.map((t) => [t.id, t.deps]));
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  for (const root of deps.keys()) {
    if (state.has(root)) continue;
    const stack: Array<{ id: string; next: number }> = [{ id: root, next: 0 }];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const list = deps.get(top.id) ?? [];
      if (top.next >= list.length) {
        state.set(top.id, 2);
        stack.pop();
        continue;
      }
      const d = list[top.next++]!;
      const s = state.get(d);
      if (s === 1) {
        const from = stack.findIndex((f) => f.id === d);
        return [...stack.slice(from).map((f) => f.id), d];
      }
      if (s === undefined && deps.has(d)) {
        state.set(d, 1);
        stack.push({ id: d, next: 0 });
      }
    }
  }
  return undefined;
}

/** `a -> b -> c -> a`; a long cycle shows its first `max` ids, then "… (N more)" and the closing id. */
export function formatCycle(cycle: readonly string[], max = 10): string {
  const ring = cycle.slice(0, -1); // the closing id repeats the first
  if (ring.length <= max) return cycle.join(' -> ');
  return `${ring.slice(0, max).join(' -> ')} -> … (${ring.length - max} more) -> ${cycle[cycle.length - 1]}`;
}

/** `a, b, c`; a long list shows its first `max` ids, then "… (N more)". */
export function formatIds(ids: readonly string[], max = 10): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')}, … (${ids.length - max} more)`;
}
