/**
 * Running one task to its end: walk the agent's fallback chain; for each agent make up to
 * `retry.max_attempts` attempts with backoff; each attempt reserves capacity from the AttemptRunner
 * first, then a global slot, runs, records its outcome and gives both back. Never sees a process.
 */
import type { AgentSpec } from '../config/agent-spec.js';
import type { AttemptLease, AttemptOutcome } from '../kernel-api/attempt-runner.js';
import { retryDelay } from './backoff.js';
import type { TaskRecord } from './task-graph.js';
import type { Dispatch } from './types.js';

/** Run `rec` through its chain until it succeeds, fails for good, is cancelled or the run stops. */
export async function executeTask(d: Dispatch, rec: TaskRecord): Promise<void> {
  const chain = d.policy.chain(rec.agent);
  for (let c = 0; c < chain.length; c++) {
    const spec = chain[c]!;
    if (c > 0) d.events.emit({ type: 'task.fallback', task: rec.id, from: chain[c - 1]!.name, to: spec.name });
    for (let agentAttempt = 1; agentAttempt <= spec.retry.max_attempts; agentAttempt++) {
      if (agentAttempt > 1) {
        const delay = retryDelay(spec.retry, agentAttempt - 1);
        d.events.emit({ type: 'task.retry', task: rec.id, agent: spec.name, attempt: rec.attempts + 1, delay_ms: delay });
        await d.sleep(delay);
      }
      if (d.stopped(rec)) return;
      const refusal = d.policy.admit?.(spec.name);
      if (refusal !== undefined) {
        // Budget spent: retrying this agent is pointless; the fallback (if any) takes over.
        d.recordFailure(rec, spec.name, rec.attempts, 0, { ok: false, kind: 'token_quota', message: refusal });
        break;
      }
      let lease: AttemptLease;
      try {
        lease = await d.runner.acquire(spec.name, { retry: rec.attempts > 0 });
      } catch (err) {
        if (d.interrupted) return;
        // Circuit open: this agent takes no more work; try the next in the chain.
        rec.error = { kind: 'crash', message: (err as Error).message };
        break;
      }
      if (d.stopped(rec)) {
        lease.release();
        return;
      }
      // The attempt holds a global slot from its start until its outcome is recorded, so the event
      // order never shows more attempts running than the concurrency allows.
      const succeeded = await d.queue.add(() => runAttempt(d, rec, spec, lease, agentAttempt));
      if (succeeded || d.stopped(rec)) return;
      // A sandbox denial is the agent's configuration speaking: another attempt would be denied again.
      if (rec.failures[rec.failures.length - 1]?.kind === 'sandbox') break;
    }
  }
  if (d.stopped(rec)) return;
  d.fail(rec);
}

/** One attempt on a leased place, inside a global slot. Resolves true when the task succeeded. */
async function runAttempt(d: Dispatch, rec: TaskRecord, spec: AgentSpec, lease: AttemptLease, agentAttempt: number): Promise<boolean> {
  if (rec.cancelled) {
    // Cancelled while waiting for a slot: never start the attempt.
    lease.release();
    return false;
  }
  const attempt = ++rec.attempts;
  const inject = d.injectionFor(rec.id, attempt, spec.name, agentAttempt);
  d.leases.set(rec.id, lease);
  let outcome: AttemptOutcome;
  try {
    outcome = await lease.run(
      {
        taskId: rec.id,
        attempt,
        input: rec.input,
        deps: d.graph.depOutputs(rec),
        inject,
        // A task may ask for a tighter time limit and memory quota than its agent's (ctx.spawn).
        timeoutMs: rec.timeoutMs === null ? spec.timeout_ms : Math.min(rec.timeoutMs, spec.timeout_ms),
        memoryMb: rec.memoryMb === null ? spec.memory_mb : Math.min(rec.memoryMb, spec.memory_mb),
      },
      { started: (where) => d.started(rec, spec.name, attempt, where, inject) },
    );
  } finally {
    d.leases.delete(rec.id);
    lease.release();
  }
  if (d.interrupted || rec.cancelled) return false;
  if (outcome.ok) {
    if (spec.token_budget !== undefined) await d.policy.settled?.(spec.name, rec.id, lease.place, outcome.output);
    d.succeed(rec, spec.name, attempt, lease.place.pid, outcome.output);
    return true;
  }
  d.recordFailure(rec, spec.name, attempt, lease.place.pid, outcome);
  return false;
}
