/**
 * The kernel's side of durable runs: the FactSink that appends the scheduler's facts to the run
 * journal (src/journal/), the run header (plan, agents with content hashes, options), and the journal
 * state a resumed kernel starts from. Facts are appended in the order they happen and made durable by
 * the journal's group commit; whoever must not act before a fact is durable (dependents of a success, the
 * ack of a spawn or a memory write) waits on `durable()` — a process never waits for an fsync.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AgentRegistry } from '../config/registry.js';
import type { Plan } from '../config/plan.js';
import { OUTCOME_KINDS, JOURNAL_FORMAT, type AgentRecord, type Fact, type FactInput, type OutcomeKind, type RunOptionsRecord } from '../journal/facts.js';
import { hashAgent, hashPlan } from '../journal/hash.js';
import type { Journal } from '../journal/journal.js';
import type { RunLock } from '../journal/run-lock.js';
import type { FactSink, SchedulerFact } from '../kernel-api/scheduling.js';
import { BUILTIN_AGENTS } from '../paths.js';

/** What a new run writes into its header besides what the kernel knows (plan file, CLI options). */
export interface JournalSetup {
  /** The plan file, or undefined for a plan built in code (goal runs: the plan's JSON is kept). */
  planFile?: string | undefined;
  /** `--inject`, goal/repair options, `--out`/`--apply` (concurrency comes from the kernel). */
  options?: Partial<Omit<RunOptionsRecord, 'concurrency'>> | undefined;
  /**
   * The group-commit window in ms (src/journal/file-journal.ts; default 2). For benchmarks and embedding:
   * every fact is still made durable before it takes effect, whatever the window.
   */
  windowMs?: number | undefined;
}

/** A run taken over from its journal (agentos resume): the lock is held, the journal open, its facts folded. */
export interface ResumeSetup {
  journal: Journal;
  lock: RunLock;
  /** The journal's facts as read when it was opened. */
  facts: Fact[];
}

/** The FactSink of a run with a journal; until `attach()` (or after a failure) it records nothing. */
export class JournalFacts implements FactSink {
  private journal: Journal | undefined;
  private last: Promise<number> | undefined;
  /** Whether a fact was appended since `last` was seen durable: durable() is free when nothing is pending. */
  private pending = false;

  constructor(private readonly failed: (err: unknown) => void) {}

  get attached(): Journal | undefined {
    return this.journal;
  }

  attach(journal: Journal): void {
    this.journal = journal;
  }

  record(f: SchedulerFact): void {
    const fact = toFact(f);
    if (fact) this.append(fact);
  }

  /** Append any fact (memory writes, token charges, run facts); errors end the run through `failed`. */
  append(fact: FactInput): void {
    if (!this.journal) return;
    try {
      const p = this.journal.append(fact);
      // Awaited through durable(); a failure is reported once, here.
      p.catch((err: unknown) => this.failed(err));
      this.last = p;
      this.pending = true;
    } catch (err) {
      this.failed(err);
    }
  }

  durable(): Promise<void> | undefined {
    if (!this.pending || !this.last) return undefined;
    const p = this.last;
    return p.then(() => {
      if (this.last === p) this.pending = false;
    });
  }
}

function outcomeKind(kind: string): OutcomeKind {
  return (OUTCOME_KINDS as readonly string[]).includes(kind) ? (kind as OutcomeKind) : 'crash';
}

/** A scheduler fact as a journal fact; undefined for what the journal does not keep (an ok outcome: `task.succeeded` says it). */
export function toFact(f: SchedulerFact): FactInput | undefined {
  switch (f.type) {
    case 'task.added':
      return f;
    case 'attempt.started':
      return f;
    case 'attempt.outcome':
      if (f.ok) return undefined;
      return { type: 'attempt.outcome', task: f.task, attempt: f.attempt, agent: f.agent, pid: f.pid, kind: outcomeKind(f.kind ?? 'crash'), message: f.message ?? '' };
    case 'task.succeeded':
      return f;
    case 'task.failed':
      return { type: 'task.failed', task: f.task, kind: outcomeKind(f.kind), message: f.message };
    case 'task.skipped':
      return f;
  }
}

/** The agents a plan reaches (fallbacks included), hashed. Throws AgentOSError E_FILE_NOT_FOUND. */
export function agentRecords(registry: AgentRegistry, agents: Iterable<string>): AgentRecord[] {
  const names = new Set<string>();
  for (const a of agents) for (const s of registry.chain(a)) names.add(s.name);
  return [...names].sort().map((n) => {
    const spec = registry.get(n);
    const h = hashAgent(spec);
    return { name: n, dir: dirname(spec.file), hash: h.hash, files: h.files };
  });
}

/** The header of a new run. */
export function runHeader(o: { runId: string; plan: Plan; registry: AgentRegistry; concurrency: number; setup: JournalSetup }): FactInput {
  const text = o.setup.planFile ? readFileSync(o.setup.planFile, 'utf8') : JSON.stringify(o.plan);
  const opts = o.setup.options ?? {};
  return {
    type: 'run.header',
    format: JOURNAL_FORMAT,
    run_id: o.runId,
    pid: process.pid,
    plan: { path: o.setup.planFile ?? null, text, sha256: hashPlan(text), name: o.plan.name, tasks: o.plan.tasks.length },
    agents: agentRecords(o.registry, o.plan.tasks.map((t) => t.agent)),
    options: { injections: opts.injections ?? [], concurrency: o.concurrency, goal: opts.goal ?? null, repair: opts.repair ?? null, out: opts.out ?? null, apply: opts.apply ?? false },
  };
}

/** The agent directories a run used (the parents of its agents' directories), built-in agents left out. */
export function agentDirsOf(agents: readonly AgentRecord[]): string[] {
  const builtin = BUILTIN_AGENTS.replace(/\/+$/, '');
  return [...new Set(agents.map((a) => dirname(a.dir)))].filter((d) => d !== builtin);
}
