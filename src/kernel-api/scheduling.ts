/**
 * The scheduler's other two seams besides the AttemptRunner:
 * - `SchedulingPolicy`: the kernel's hooks (the agent's fallback chain, token admission and charging);
 * - `FactSink`: every fact the scheduler establishes, typed, recorded *before* it takes effect (before
 *   dependents are released, before a waiter is woken). The durable-runs journal implements it; a run without
 *   a journal uses NO_FACTS. One sink, one call per fact, synchronous: a durable sink buffers and
 *   group-commits, and may hold acknowledgements (results, spawns) until its flush.
 */
import type { AgentSpec } from '../config/agent-spec.js';
import type { FailureKind } from '../protocol/messages.js';
import type { AttemptPlace } from './attempt-runner.js';

export interface SchedulingPolicy {
  /** The agent and its fallbacks, in order. Throws AgentOSError E_UNKNOWN_AGENT. */
  chain(agent: string): AgentSpec[];
  hasAgent(agent: string): boolean;
  /** A refusal message when the agent may take no more work (token budget spent); undefined: go. */
  admit?(agent: string): string | undefined;
  /** After a successful attempt of an agent with a token_budget: count its output. */
  settled?(agent: string, task: string, place: AttemptPlace, output: unknown): Promise<void>;
}

export type SchedulerFact =
  | { type: 'task.added'; task: string; agent: string; deps: string[]; input: unknown; dynamic: boolean; spawned_by: string | null; timeout_ms: number | null; memory_mb: number | null }
  | { type: 'attempt.started'; task: string; attempt: number; agent: string; pid: number; instance: number }
  | { type: 'attempt.outcome'; task: string; attempt: number; agent: string; pid: number; ok: boolean; kind?: FailureKind | undefined; message?: string | undefined }
  | { type: 'task.succeeded'; task: string; attempt: number; agent: string; output: unknown }
  | { type: 'task.failed'; task: string; kind: string; message: string }
  /** kind: its own `cancelled`, a `dependency` (cause: that task) that ended badly, or the run `interrupted`. */
  | { type: 'task.skipped'; task: string; reason: string; kind: 'cancelled' | 'dependency' | 'interrupted'; cause: string | null };

export interface FactSink {
  record(fact: SchedulerFact): void;
  /**
   * Resolves once every fact recorded so far is durable; undefined when it already is (or the sink keeps
   * nothing). The scheduler releases dependents and wakes waiters of a success only after it.
   * Rejects with AgentOSError `E_JOURNAL_IO` when the facts cannot be made durable.
   */
  durable?(): Promise<void> | undefined;
}

/** The sink of a run that keeps no journal. */
export const NO_FACTS: FactSink = { record: () => {} };
