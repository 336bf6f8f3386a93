/**
 * A run's journal from start to end: a new run takes the run lock, creates journal.jsonl and makes its
 * header durable before any task starts; a resumed run (agentos resume) appends `run.resumed` and puts the
 * journal's tasks, shared memory and token ledger back. At the end the `run.finished` fact is written, the
 * journal closed and read back: the report is built from it (the record of the whole run, every kernel
 * that drove it), then the lock is released.
 */
import type { Plan } from '../config/plan.js';
import type { Fact } from '../journal/facts.js';
import { FileJournal } from '../journal/file-journal.js';
import type { Journal } from '../journal/journal.js';
import { replay, type ReplayTask, type RunState } from '../journal/replay.js';
import { acquireRunLock, type RunLock } from '../journal/run-lock.js';
import type { RunStatus } from '../observe/report.js';
import type { RestoredTask } from '../scheduler/scheduler.js';
import { runHeader, type JournalFacts, type JournalSetup, type ResumeSetup } from './durable.js';
import type { Services } from './services.js';
import type { AgentRegistry } from '../config/registry.js';

/** The parts of the kernel a journal needs (kernel.ts passes itself). */
export interface JournalHost {
  readonly runId: string;
  readonly runDir: string;
  readonly registry: AgentRegistry;
  readonly journal: JournalFacts;
  readonly services: Services;
  readonly scheduler: { concurrency: number };
}

export interface OpenRun {
  journal: Journal;
  lock: RunLock;
  /** Set when resuming: the tasks to restore and the ids of those final for their own reasons (never run again). */
  resumed?: { tasks: RestoredTask[]; final: Set<string> } | undefined;
}

/**
 * Open the journal of a run: a new one (lock, create, header) or the one being resumed (run.resumed,
 * state restored). Resolves once what it appended is durable.
 * @throws AgentOSError `E_RUN_LOCKED` (a live kernel holds the run), `E_JOURNAL_IO`.
 */
export async function openRun(k: JournalHost, plan: Plan, o: { journal?: false | JournalSetup | undefined; resume?: ResumeSetup | undefined; createJournal?: (() => Promise<Journal>) | undefined }): Promise<OpenRun> {
  if (o.resume) return resumeRun(k, o.resume);
  const lock = acquireRunLock(k.runDir);
  try {
    const setup = o.journal || {};
    const journal = o.createJournal ? await o.createJournal() : FileJournal.create(k.runDir, setup.windowMs === undefined ? {} : { windowMs: setup.windowMs });
    k.journal.attach(journal);
    k.journal.append(runHeader({ runId: k.runId, plan, registry: k.registry, concurrency: k.scheduler.concurrency, setup }));
    await k.journal.durable();
    return { journal, lock };
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function resumeRun(k: JournalHost, r: ResumeSetup): Promise<OpenRun> {
  const at = Date.now();
  const seq = r.journal.nextSeq;
  k.journal.attach(r.journal);
  k.journal.append({ type: 'run.resumed', at, by_pid: process.pid });
  await k.journal.durable();
  // Folding run.resumed turns the attempts in flight into `interrupted` failures and reopens the unfinished tasks.
  const state = replay([...r.facts, { seq, ts_ms: at, type: 'run.resumed', at, by_pid: process.pid }]);
  if (state.memory.size > 0 || state.tokens.size > 0) k.services.context.restore(state.memory, state.tokens);
  const tasks = [...state.tasks.values()].map(restoredTask);
  return { journal: r.journal, lock: r.lock, resumed: { tasks, final: new Set(tasks.filter((t) => t.status !== 'pending').map((t) => t.id)) } };
}

function restoredTask(t: ReplayTask): RestoredTask {
  return {
    id: t.id,
    agent: t.agent,
    deps: t.deps,
    input: t.input,
    dynamic: t.dynamic,
    spawned_by: t.spawned_by,
    timeout_ms: t.timeout_ms,
    memory_mb: t.memory_mb,
    status: t.status === 'running' ? 'pending' : t.status,
    attempts: t.attempts,
    counted: t.counted,
    served_by: t.served_by,
    output: t.output,
    error: t.error,
    failures: t.failures.map((f) => ({ attempt: f.attempt, agent: f.agent, kind: f.kind, message: f.message, pid: f.pid })),
  };
}

/**
 * End the run's journal: `run.finished`, close, read it back and fold it; release the lock. Resolves with
 * the run's state from the journal, or undefined when the journal failed (the report then comes from
 * memory, and the kernel's fatal error says why).
 */
export async function closeRun(k: JournalHost, run: OpenRun, status: RunStatus, durationMs: number): Promise<RunState | undefined> {
  try {
    k.journal.append({ type: 'run.finished', status, duration_ms: durationMs });
    await run.journal.close();
    const facts: Fact[] = [];
    for await (const f of run.journal.read()) facts.push(f);
    return replay(facts);
  } catch {
    return undefined;
  } finally {
    run.lock.release();
  }
}
