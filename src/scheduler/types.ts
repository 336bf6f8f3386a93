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
