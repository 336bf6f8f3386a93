/**
 * The seam between the scheduler and whatever runs attempts. The scheduler decides *what* runs and
 * *when* (DAG, retries, backoff, fallback, circuit, concurrency); an AttemptRunner decides *where* and
 * runs it. One attempt, in one function of the scheduler (like BullMQ's sandbox.ts):
 *
 *   const lease = await runner.acquire(agent, { retry })   // reserve capacity (rejects: circuit open)
 *   try { outcome = await lease.run(attempt, hooks) }      // never rejects: every end is an outcome
 *   finally { lease.release() }                            // give the capacity back (a no-op if it died)
 *
 * Implementations: process/local-runner.ts (warm agent pools on this machine). Designed to also fit a
 * remote runner (a lease = a claimed queue slot on a node; `run` = one job), a prefetch depth above one
 * (a runner may hand out several leases per process and call `hooks.started` only when the child really
 * starts the attempt), and tests (test/scheduler/fake-runner.ts: no process at all).
 */
import type { FailureKind, Fault } from '../protocol/messages.js';

/** How one attempt ended. */
export type AttemptOutcome =
  | { ok: true; output: unknown }
  | { ok: false; kind: FailureKind; message: string; stack?: string | undefined };

/** Where an attempt runs: enough to find the process (pid 0: no local process). */
export interface AttemptPlace {
  agent: string;
  instance: number;
  pid: number;
}

/** One attempt, as the scheduler hands it to a lease. */
export interface AttemptSpec {
  taskId: string;
  /** The task's attempt number, 1-based, across fallbacks. */
  attempt: number;
  /** Idempotency key of the task (stable across attempts and resumes); default `${runId}:${taskId}`. */
  key?: string | undefined;
  input: unknown;
  /** Outputs of the task's dependencies, by task id. */
  deps: Record<string, unknown>;
  /** A fault the child commits before the handler (fault injection). */
  inject?: Fault | undefined;
  /** Time limit of this attempt (ms): the agent's, or a task's tighter one. */
  timeoutMs: number;
  /** Memory quota of this attempt (MiB): the agent's, or a task's tighter one. */
  memoryMb: number;
}

export interface AttemptHooks {
  /** Called when the attempt really starts (before any log or call from it can arrive). */
  started(where: AttemptPlace): void;
}

export interface AttemptLease {
  /** Where the attempt will run. */
  readonly place: AttemptPlace;
  /** Run one attempt. Never rejects. */
  run(attempt: AttemptSpec, hooks: AttemptHooks): Promise<AttemptOutcome>;
  /** End the attempt in flight (its task was cancelled); `run` then resolves with kind `cancelled`. */
  cancel(): void;
  /** Give the capacity back. Idempotent; a no-op when the place died meanwhile. */
  release(): void;
}

export interface AcquireOptions {
  /** The task already ran: wait at the head of the line (a retried task finishes next). */
  retry: boolean;
}

export interface AttemptRunner {
  /**
   * Reserve capacity to run one attempt of `agent` (waits for it). Rejects with AgentOSError
   * E_CIRCUIT_OPEN when the agent takes no more work, E_SHUTTING_DOWN when the runner is closing.
   */
  acquire(agent: string, opts: AcquireOptions): Promise<AttemptLease>;
}
