/** Fault injection: which fault (if any) an attempt commits inside the child (`--inject`, stress runs). */
import type { Fault } from '../protocol/messages.js';

export interface Injection {
  agent: string;
  fault: Fault;
  /** The agent's own attempt number on a task (1-based); undefined: every attempt. */
  attempt: number | undefined;
}

/** A fault for one task (stress runs): committed on the task's N-th attempt, whichever agent runs it. */
export interface TaskInjection {
  fault: Fault;
  /** The task's attempt number (1-based, across fallbacks). */
  attempt: number;
}

/** Per-task faults first, then the first per-agent one that matches the agent's own attempt number. */
export function injectionFor(
  byTask: ReadonlyMap<string, TaskInjection> | undefined,
  byAgent: readonly Injection[],
  task: string,
  attempt: number,
  agent: string,
  agentAttempt: number,
): Fault | undefined {
  const t = byTask?.get(task);
  if (t && t.attempt === attempt) return t.fault;
  for (const inj of byAgent) {
    if (inj.agent === agent && (inj.attempt === undefined || inj.attempt === agentAttempt)) return inj.fault;
  }
  return undefined;
}
