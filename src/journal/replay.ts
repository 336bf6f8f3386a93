/**
 * Replay: fold a journal's facts into the state of the run they describe — the task graph (status,
 * attempts, outputs, failures), shared memory, the token ledger and the stop/resume history — and say
 * which tasks a resume must run again (./completeness.ts).
 *
 * The fold is strict about structure (a fact on an unknown task, a task added twice, a second result
 * for a finished task): such a journal was not written by a correct kernel, and replaying it anyway
 * would build a wrong run, so it is refused with `E_JOURNAL_CORRUPT` naming the fact's seq.
 *
 * `run.resumed` is where a kill is accounted for: every attempt still in flight becomes a failure of
 * kind `interrupted` (not counted against retry.max_attempts), and every task not final for its own
 * reasons goes back to `pending`, so the facts the new kernel appends after it apply cleanly.
 */
import { AgentOSError } from '../errors.js';
import type { Fact, FactOf, RunHeader } from './facts.js';
import { isFinal } from './completeness.js';

export type { InflightAttempt, MemoryValue, ReplayFailure, ReplayStatus, ReplayTask, RunState } from './replay-types.js';
import type { ReplayTask, RunState } from './replay-types.js';

export function replay(facts: Iterable<Fact>): RunState {
  let folder: RunFolder | null = null;
  for (const f of facts) {
    if (!folder) {
      if (f.type !== 'run.header') throw corrupt(f, `the first fact is '${f.type}', not the run header`);
      folder = new RunFolder(f);
    } else folder.apply(f);
  }
  if (!folder) throw new AgentOSError('E_JOURNAL_CORRUPT', 'the journal holds no run header: the run died before it started. Fix: start the run again with agentos run.');
  return folder.state;
}

/** An incremental fold, for a reader that follows a live journal (the dashboard, a cluster coordinator). */
export class RunFolder {
  readonly state: RunState;

  constructor(header: RunHeader) {
    this.state = { header, tasks: new Map(), memory: new Map(), tokens: new Map(), interruptions: [], resumed: [], finished: null, lastSeq: header.seq };
  }

  /** @throws AgentOSError `E_JOURNAL_CORRUPT`. */
  apply(f: Fact): void {
    const s = this.state;
    switch (f.type) {
      case 'run.header':
        throw corrupt(f, 'a second run header');
      case 'task.added': {
        if (s.tasks.has(f.task)) throw corrupt(f, `task '${f.task}' added twice`);
        for (const d of f.deps) if (!s.tasks.has(d)) throw corrupt(f, `task '${f.task}' depends on '${d}', which was never added`);
        s.tasks.set(f.task, {
          id: f.task,
          agent: f.agent,
          deps: f.deps,
          input: f.input ?? null,
          dynamic: f.dynamic,
          spawned_by: f.spawned_by,
          timeout_ms: f.timeout_ms,
          memory_mb: f.memory_mb,
          status: 'pending',
          attempts: 0,
          counted: {},
          served_by: null,
          output: null,
          error: null,
          skip: null,
          failures: [],
          inflight: null,
        });
        break;
      }
      case 'attempt.started': {
        const t = this.open(f);
        if (t.inflight) throw corrupt(f, `attempt ${f.attempt} of '${f.task}' started while attempt ${t.inflight.attempt} was still running`);
        if (f.attempt <= t.attempts) throw corrupt(f, `attempt ${f.attempt} of '${f.task}' started after attempt ${t.attempts}`);
        t.attempts = f.attempt;
        t.status = 'running';
        t.inflight = { task: f.task, attempt: f.attempt, agent: f.agent, instance: f.instance, pid: f.pid, seq: f.seq };
        break;
      }
      case 'attempt.outcome': {
        // A cancelled task is skipped at once while its process is still being ended: the outcome of
        // that last attempt may follow the skip.
        const late = this.lateOutcome(f);
        const t = late ?? this.open(f);
        if (!late && t.inflight?.attempt !== f.attempt) throw corrupt(f, `outcome of attempt ${f.attempt} of '${f.task}', which is not running`);
        if (!late) {
          t.inflight = null;
          t.status = 'pending';
        }
        // Neither the kernel's death nor a cluster node's counts against retry.max_attempts.
        if (f.kind !== 'interrupted' && f.kind !== 'node_lost') t.counted[f.agent] = (t.counted[f.agent] ?? 0) + 1;
        t.failures.push({ attempt: f.attempt, agent: f.agent, kind: f.kind, message: f.message, pid: f.pid, seq: f.seq });
        break;
      }
      case 'task.succeeded': {
        const t = this.open(f);
        if (t.inflight && t.inflight.attempt !== f.attempt) throw corrupt(f, `'${f.task}' succeeded with attempt ${f.attempt} while attempt ${t.inflight.attempt} was running`);
        t.inflight = null;
        t.status = 'succeeded';
        t.counted[f.agent] = (t.counted[f.agent] ?? 0) + 1;
        t.served_by = f.agent;
        t.output = f.output ?? null;
        break;
      }
      case 'task.failed': {
        const t = this.open(f);
        t.inflight = null;
        t.status = 'failed';
        t.error = { kind: f.kind, message: f.message };
        break;
      }
      case 'task.skipped': {
        const t = this.open(f);
        if (f.cause !== null && !s.tasks.has(f.cause)) throw corrupt(f, `'${f.task}' skipped because of '${f.cause}', which was never added`);
        t.inflight = null;
        t.status = 'skipped';
        t.error = { kind: f.kind, message: f.reason };
        t.skip = { kind: f.kind, cause: f.cause };
        break;
      }
      case 'memory.write':
        if (f.deleted) s.memory.delete(f.key);
        else s.memory.set(f.key, { value: f.value ?? null, writer: f.writer, seq: f.seq });
        break;
      case 'token.charge':
        s.tokens.set(f.agent, (s.tokens.get(f.agent) ?? 0) + f.tokens);
        break;
      case 'run.interrupted':
        s.interruptions.push({ at: f.at, by_pid: f.by_pid, signal: f.signal });
        break;
      case 'run.resumed':
        s.resumed.push({ at: f.at, by_pid: f.by_pid });
        this.reopen(f);
        break;
      case 'run.finished':
        s.finished = { status: f.status, duration_ms: f.duration_ms };
        break;
    }
    s.lastSeq = f.seq;
  }

  /** The task a fact is about; it must exist and not have ended. */
  private open(f: Fact & { task: string }): ReplayTask {
    const t = this.state.tasks.get(f.task);
    if (!t) throw corrupt(f, `'${f.type}' for task '${f.task}', which was never added`);
    if (t.status === 'succeeded' || t.status === 'failed' || t.status === 'skipped') throw corrupt(f, `'${f.type}' for task '${f.task}', which had already ${t.status}`);
    return t;
  }

  /** The ended task whose last attempt this outcome closes, or undefined. */
  private lateOutcome(f: FactOf<'attempt.outcome'>): ReplayTask | undefined {
    const t = this.state.tasks.get(f.task);
    if (!t || (t.status !== 'skipped' && t.status !== 'failed')) return undefined;
    return f.attempt === t.attempts && !t.failures.some((x) => x.attempt === f.attempt) ? t : undefined;
  }

  /** A new kernel took over: account for the kill and send every task not final for its own reasons back to pending. */
  private reopen(f: FactOf<'run.resumed'>): void {
    const s = this.state;
    s.finished = null;
    const memo = new Map<string, boolean>();
    const reopen: ReplayTask[] = [];
    for (const t of s.tasks.values()) if (!isFinal(s.tasks, t, memo)) reopen.push(t);
    for (const t of reopen) {
      if (t.inflight) {
        const a = t.inflight;
        t.failures.push({ attempt: a.attempt, agent: a.agent, kind: 'interrupted', message: `the kernel stopped while attempt ${a.attempt} ran (pid ${a.pid}); run again on resume`, pid: a.pid, seq: f.seq });
      }
      t.inflight = null;
      t.status = 'pending';
      t.error = null;
      t.skip = null;
    }
  }
}

function corrupt(f: Fact, what: string): AgentOSError {
  return new AgentOSError('E_JOURNAL_CORRUPT', `journal fact seq ${f.seq}: ${what}. The journal contradicts itself; it was damaged or edited. Fix: restore it from a backup, or start the run again.`);
}
