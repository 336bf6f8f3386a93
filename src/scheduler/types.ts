/** The scheduler's types: what it is given (host, options) and what a new task is. */
import type { AttemptRunner } from '../kernel-api/attempt-runner.js';
import type { FactSink, SchedulingPolicy } from '../kernel-api/scheduling.js';
import type { Injection, TaskInjection } from './injections.js';

/** What the scheduler is given: the policy hooks, the runner of attempts and (optionally) a fact sink. */
export interface SchedulerHost extends SchedulingPolicy {
  readonly runner: AttemptRunner;
  readonly facts?: FactSink;
}

export interface SchedulerOptions {
  concurrency: number;
  injections: readonly Injection[];
  /** Per-task faults by task id (checked before the per-agent ones). @default none */
  taskInjections?: ReadonlyMap<string, TaskInjection>;
  /** Most tasks a run may add while it runs. */
  maxDynamicTasks: number;
  /** The run's id: tasks' idempotency keys are `<runId>:<taskId>` (without it: the task id). */
  runId?: string | undefined;
  /** The fact sink failed (E_JOURNAL_IO): the run cannot go on without its record. */
  onFactsFailed?: ((err: unknown) => void) | undefined;
}

/** A task as a journal left it, for a resumed run (Scheduler.restore). */
export interface RestoredTask {
  id: string;
  agent: string;
  deps: string[];
  input: unknown;
  dynamic: boolean;
  spawned_by: string | null;
  timeout_ms: number | null;
  memory_mb: number | null;
  /** `pending` for every task a resume runs (again); the others are final for their own reasons. */
  status: 'pending' | 'succeeded' | 'failed' | 'skipped';
  attempts: number;
  counted: Record<string, number>;
  served_by: string | null;
  output: unknown;
  error: { kind: string; message: string } | null;
  failures: Array<{ attempt: number; agent: string; kind: string; message: string; pid: number }>;
}

/** A task as a plan or ctx.spawn gives it. */
export interface NewTask {
  id: string;
  agent: string;
  deps?: string[];
  input?: unknown;
  timeout_ms?: number | undefined;
  memory_mb?: number | undefined;
}
