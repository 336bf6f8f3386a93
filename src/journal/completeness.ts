/**
 * Which tasks of a replayed run are final *for their own reasons* and which were left unfinished by an
 * interruption (Ctrl-C, SIGTERM, a killed kernel). A resume keeps the first and sends the second back
 * to pending; a run whose tasks are all final is complete and is not resumed.
 *
 * Final for its own reasons: succeeded; failed with any kind but `interrupted`; skipped as
 * `cancelled`; skipped because of a dependency that is itself final (a dependency skipped only
 * because the run stopped will run on resume, so its dependents must too).
 */
import type { InflightAttempt, ReplayTask, RunState } from './replay-types.js';

export interface Completeness {
  /** Every task is final for its own reasons (and there is at least one task). */
  complete: boolean;
  /** Task ids final for their own reasons, in the order they were added. */
  final: string[];
  /** Task ids a resume sends back to pending. */
  unfinished: string[];
  /** Attempts in flight when the kernel stopped: run again on resume, recorded as `interrupted`. */
  inflight: InflightAttempt[];
}

/** Completeness verdict of a replayed run. */
export function completeness(state: RunState): Completeness {
  const memo = new Map<string, boolean>();
  const final: string[] = [];
  const unfinished: string[] = [];
  const inflight: InflightAttempt[] = [];
  for (const t of state.tasks.values()) {
    if (isFinal(state.tasks, t, memo)) final.push(t.id);
    else {
      unfinished.push(t.id);
      if (t.inflight) inflight.push(t.inflight);
    }
  }
  return { complete: state.tasks.size > 0 && unfinished.length === 0, final, unfinished, inflight };
}

/**
 * Whether `t` is final for its own reasons. Iterative over `skip.cause` chains (a long chain of
 * dependency skips must not overflow the stack); `memo` caches verdicts across calls.
 */
export function isFinal(tasks: ReadonlyMap<string, ReplayTask>, t: ReplayTask, memo: Map<string, boolean>): boolean {
  const chain: ReplayTask[] = [];
  let cur: ReplayTask | undefined = t;
  let verdict: boolean | undefined;
  while (cur) {
    const known = memo.get(cur.id);
    if (known !== undefined) {
      verdict = known;
      break;
    }
    const own = ownVerdict(cur);
    if (own !== 'cause') {
      verdict = own;
      chain.push(cur);
      break;
    }
    chain.push(cur);
    const cause: ReplayTask | undefined = cur.skip?.cause ? tasks.get(cur.skip.cause) : undefined;
    // A dependency skip without a known cause: nothing says an interruption caused it, so it stands.
    if (!cause || chain.includes(cause)) {
      verdict = true;
      break;
    }
    cur = cause;
  }
  for (const c of chain) memo.set(c.id, verdict!);
  return verdict!;
}

function ownVerdict(t: ReplayTask): boolean | 'cause' {
  switch (t.status) {
    case 'succeeded':
      return true;
    case 'failed':
      return t.error?.kind !== 'interrupted';
    case 'skipped':
      if (t.skip?.kind === 'interrupted') return false;
      return t.skip?.kind === 'dependency' ? 'cause' : true;
    default:
      return false;
  }
}
