/** The state a journal replays into (replay.ts folds facts into it; completeness.ts judges it). */
import type { FactOf, OutcomeKind, RunHeader, SkipKind } from './facts.js';

export type ReplayStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

/** One attempt that ended without a result. `seq`: the fact that recorded it. */
export interface ReplayFailure {
  attempt: number;
  agent: string;
  kind: OutcomeKind;
  message: string;
  pid: number;
  seq: number;
}

export interface InflightAttempt {
  task: string;
  attempt: number;
  agent: string;
  instance: number;
  pid: number;
  /** seq of its `attempt.started`. */
  seq: number;
}

export interface ReplayTask {
  id: string;
  agent: string;
  deps: string[];
  input: unknown;
  dynamic: boolean;
  spawned_by: string | null;
  timeout_ms: number | null;
  memory_mb: number | null;
  status: ReplayStatus;
  /** Highest attempt number started (the next attempt is attempts + 1), interrupted ones included. */
  attempts: number;
  /** Attempts per agent that count against its retry.max_attempts: interrupted ones do not. */
  counted: Record<string, number>;
  /** Agent whose attempt succeeded. */
  served_by: string | null;
  output: unknown;
  /** Why a failed or skipped task ended. */
  error: { kind: OutcomeKind | SkipKind; message: string } | null;
  /** For a skipped task: its skip fact's kind and cause (the dependency that ended badly). */
  skip: { kind: SkipKind; cause: string | null } | null;
  failures: ReplayFailure[];
  inflight: InflightAttempt | null;
}

export interface MemoryValue {
  value: unknown;
  writer: FactOf<'memory.write'>['writer'];
  seq: number;
}

export interface RunState {
  header: RunHeader;
  /** Tasks in the order they were added. */
  tasks: Map<string, ReplayTask>;
  /** Shared memory: the current value of each key (deleted keys are absent). */
  memory: Map<string, MemoryValue>;
  /** Tokens charged per agent. */
  tokens: Map<string, number>;
  interruptions: Array<{ at: number; by_pid: number; signal: string | null }>;
  resumed: Array<{ at: number; by_pid: number }>;
  /** The last `run.finished` not followed by a resume, or null. */
  finished: { status: 'succeeded' | 'failed' | 'interrupted'; duration_ms: number } | null;
  /** seq of the last fact folded. */
  lastSeq: number;
}

/**
 * Fold facts (in seq order, header first) into a run state.
 * @throws AgentOSError `E_JOURNAL_CORRUPT` when there is no header or a fact contradicts the ones before.
 */
