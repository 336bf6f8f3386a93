/** The scheduler's types: what it is given (host, options), what a new task is, what attempts.ts uses. */
import type PQueue from 'p-queue';
import type { AttemptLease, AttemptOutcome, AttemptPlace, AttemptRunner } from '../kernel-api/attempt-runner.js';
import type { EventLog } from '../kernel-api/events.js';
import type { FactSink, SchedulingPolicy } from '../kernel-api/scheduling.js';
import type { Fault } from '../protocol/messages.js';
import type { Injection, TaskInjection } from './injections.js';
import type { TaskGraph, TaskRecord } from './task-graph.js';

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

/** What attempts.ts needs of the scheduler (one task's run through its chain). */
export interface Dispatch {
  readonly policy: SchedulingPolicy;
  readonly runner: AttemptRunner;
  readonly events: EventLog;
  readonly graph: TaskGraph;
  readonly queue: PQueue;
  readonly interrupted: boolean;
  /** The lease of each task's attempt in flight (so a cancel can end it). */
  readonly leases: Map<string, AttemptLease>;
  stopped(rec: TaskRecord): boolean;
  sleep(ms: number): Promise<void>;
  injectionFor(task: string, attempt: number, agent: string, agentAttempt: number): Fault | undefined;
  started(rec: TaskRecord, agent: string, attempt: number, where: AttemptPlace, inject: Fault | undefined): void;
  succeed(rec: TaskRecord, agent: string, attempt: number, pid: number, output: unknown): void;
  recordFailure(rec: TaskRecord, agent: string, attempt: number, pid: number, outcome: Extract<AttemptOutcome, { ok: false }>): void;
  fail(rec: TaskRecord): void;
}
