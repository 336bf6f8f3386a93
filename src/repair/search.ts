/**
 * The patch agent's search: ranked candidates (model proposals first when a model is configured, then
 * single mutants, then pairs), each tested by a dynamically inserted test task, a few at a time in rank
 * order. The winner is chosen by rank among the candidates that pass — never by which finished first:
 * after the first pass the search still lets the higher-ranked candidates finish (each within its time
 * limit) and tests a few more, so other plausible patches are seen and reported.
 */
import { join } from 'node:path';
import type { Analysis } from './analyse.js';
import { pairBudget, pairCandidates, rankCandidates, singleBudget, type Candidate } from './candidates.js';
import { modelCandidates } from './model.js';
import type { MutationKind } from './mutate.js';
import type { BaselineResult, CandidateResult, MutantRef } from './test-run.js';
import { vetPlausible, type VetResult } from './vet.js';

/** The part of the handler context the search uses (see worker/host.ts). */
export type { SearchCtx } from './ctx-types.js';
import type { SearchCtx } from './ctx-types.js';

export interface SearchInput {
  repo: string;
  work: string;
  testCmd: string;
  /** Single edits tested at most, or `auto`: the budget grows with the search space (candidates.ts singleBudget). */
  maxCandidates: number | 'auto';
  /** Agent that tests one candidate. */
  testAgent: string;
  /** Candidate task id prefix. */
  prefix: string;
  /** Kinds to try (all when absent): the fallback uses a narrower set. */
  kinds?: MutationKind[];
  /** Whether to try pairs of edits once the singles are spent (default true). */
  pairs?: boolean;
  useModel: boolean;
  /** Time limit of one candidate run; default: 4 x the baseline's runs + 2 s, within [3 s, 60 s]. */
  candidateTimeoutMs?: number | undefined;
  /** Memory quota (MiB) of one candidate run's process tree; default: the test agent's. */
  candidateMemoryMb?: number | undefined;
  /** No new candidate starts after this long (ms); default 85000, so a run stays under two minutes. */
  searchTimeMs?: number | undefined;
  /**
   * When the run started (epoch ms). A baseline that hung eats into the two minutes, so no new candidate
   * starts later than RUN_SEARCH_END_MS after it either (but the search always gets MIN_SEARCH_MS).
   */
  startedAt?: number | undefined;
  /** Whether to run the differential check of the plausible patches (vet.ts; default true). */
  vet?: boolean;
}

export type Verdict = 'pass' | 'fail' | 'weakened' | 'timeout' | 'memory' | 'cancelled' | 'crash' | 'sandbox' | 'error';

export interface CandidateOutcome {
  task: string;
  mutant: string;
  description: string;
  kind: string;
  source: 'search' | 'model';
  score: number;
  size: number;
  verdict: Verdict;
  ms: number | null;
}

export interface SearchResult {
  winner: (MutantRef & { line: number; original: string; task: string; kind: string; source: 'search' | 'model'; score: number; size: number }) | null;
  /** Every candidate that passed, best first (the winner is the first). */
  plausible: Array<Pick<CandidateOutcome, 'task' | 'description' | 'kind' | 'source' | 'score' | 'size'>>;
  candidates: CandidateOutcome[];
  /** Single mutants in the search space, pairs generated, and what the budgets allowed. */
  generated: number;
  pairs_generated: number;
  budget: { singles: number; pairs: number };
  tried: number;
  /** Candidates killed at their limits: expected during a search, not a failure of the workflow. */
  killed: { timeout: number; memory: number };
  /** Candidate tasks that failed for other reasons (a crash of the runner, an error): workflow trouble. */
  errors: number;
  weakened: number;
  cancelled: number;
  model: { asked: boolean; proposals: number; error: string | null; rejected: string[] };
  candidate_timeout_ms: number;
  /**
   * `fix`: the winner passed the differential check (vet-judge.ts) — reported as THE fix; `plausible`: it
   * passes the tests but is not confirmed (rivals behave differently, it misbehaves next to the tests'
   * inputs, or it is an anti-pattern); null: no winner.
   */
  confidence: 'fix' | 'plausible' | null;
  vet: VetResult | null;
  stopped: 'winner' | 'exhausted' | 'deadline' | 'task_limit' | 'nothing_to_try';
}

interface WaitAnswer {
  winner: string | null;
  tasks: Array<{ id: string; state: string; output: unknown; error: { kind: string; message: string } | null; failures: Array<{ kind: string }> }>;
}

/** Candidates in flight at once: enough to keep the test agent's processes busy. */
const WINDOW = 6;
/** Candidates still tested after the first pass, to see other plausible patches. */
const AFTER_WIN = 8;
/** No candidate starts later than this after the run began (ms): the check, verify and report follow. */
const RUN_SEARCH_END_MS = 90_000;
/** The least time the search gets, however long the baseline took (ms). */
const MIN_SEARCH_MS = 25_000;
/** Dynamic tasks the search may add (the kernel allows 1000 per run; the baseline uses up to 81). */
const TASK_LIMIT = 800;
/** Differential checks during the search at most (the k-th extends it by AFTER_WIN x 2^(k-1) candidates); the deadline bounds it too. */
const MAX_MID_CHECKS = 6;

/**
 * Whether the search must go on past its window: every plausible patch so far is unconfirmed — the check
 * failed, or each is not clean or changes results next to passing tests that the failing tests do not
 * explain (vet-judge.ts drift_unexplained). A correct fix then may simply not have been tried yet.
 */
export function mustSearchOn(v: VetResult): boolean {
  if (v.confidence === 'fix' || v.inputs === 0) return false;
  return v.probe_error !== null || v.variants.every((x) => x.anomalies > 0 || x.anti_pattern !== null || x.drift_unexplained > 0 || !x.confirmed);
}

export async function searchRepair(input: SearchInput, analysis: Analysis, base: BaselineResult, ctx: SearchCtx): Promise<SearchResult> {
  const t0 = Date.now();
  const candidateTimeout = input.candidateTimeoutMs ?? Math.max(3000, Math.min(60_000, base.ms * 4 + 2000));
  const deadline = Math.max(t0 + MIN_SEARCH_MS, Math.min(t0 + (input.searchTimeMs ?? 85_000), (input.startedAt ?? Infinity) + RUN_SEARCH_END_MS));
  const singlesAll = rankCandidates(input.repo, analysis, input.kinds);
  const sBudget = singleBudget(singlesAll.length, input.maxCandidates);
  const res: SearchResult = {
    winner: null, plausible: [], candidates: [], generated: singlesAll.length, pairs_generated: 0, budget: { singles: sBudget, pairs: 0 }, tried: 0,
    killed: { timeout: 0, memory: 0 }, errors: 0, weakened: 0, cancelled: 0, model: { asked: false, proposals: 0, error: null, rejected: [] }, candidate_timeout_ms: candidateTimeout, confidence: null, vet: null, stopped: 'exhausted',
  };
  const queue: Candidate[] = [];
  if (input.useModel) {
    const m = await modelCandidates(ctx, input.repo, analysis);
    res.model = { asked: m.configured, proposals: m.candidates.length, error: m.error, rejected: m.rejected };
    queue.push(...m.candidates);
  }
  queue.push(...singlesAll.slice(0, sBudget));
  ctx.log(`${singlesAll.length} single mutants of ${analysis.suspicious.length} suspicious lines; budget ${sBudget}${res.model.proposals ? ` + ${res.model.proposals} model proposal(s)` : ''}; limit ${candidateTimeout} ms each`);
  await cancelEarlierAttempts(ctx, input.prefix);
  const inFlight = new Map<string, { c: Candidate; rank: number }>();
  const passed: Array<{ c: Candidate; rank: number; task: string }> = [];
  let next = 0;
  let limit = Infinity;
  let pairsAdded = input.pairs === false;
  const failingFiles = base.per_test || base.failing_files.length > 0 ? base.failing_files : [];
  let round = 0;
  let checked: { passed: number; vet: VetResult } | null = null;
  const vetNow = async (): Promise<VetResult> => {
    passed.sort((a, b) => a.rank - b.rank);
    if (checked && checked.passed === passed.length) return checked.vet;
    round++;
    const vet = await vetPlausible({ startedAt: input.startedAt, round, testCmd: input.testCmd, repo: input.repo, work: input.work, testAgent: input.testAgent, prefix: input.prefix, candidates: passed.map((p) => ({ task: p.task, description: p.c.description, kind: p.c.kind, original: p.c.original, replacement: p.c.replacement })) }, base, ctx);
    checked = { passed: passed.length, vet };
    return vet;
  };
  for (;;) {
    if (next >= queue.length && !pairsAdded && passed.length === 0 && inFlight.size === 0) {
      pairsAdded = true;
      const pairs = pairCandidates(input.repo, singlesAll.slice(0, sBudget), pairBudget(sBudget));
      res.pairs_generated = pairs.length;
      res.budget.pairs = pairs.length;
      queue.push(...pairs);
      if (pairs.length) ctx.log(`singles spent: trying ${pairs.length} pairs of edits`);
    }
    while (inFlight.size < WINDOW && next < queue.length && next < limit) {
      if (Date.now() > deadline) {
        res.stopped = 'deadline';
        break;
      }
      if (next >= TASK_LIMIT) {
        res.stopped = 'task_limit';
        break;
      }
      const c = queue[next]!;
      const id = `${input.prefix}-a${ctx.task.attempt}-${String(next + 1).padStart(3, '0')}`;
      const ref: MutantRef = { id: c.id, file: c.file, start: c.start, end: c.end, replacement: c.replacement, description: c.description };
      await ctx.spawn({ id, agent: input.testAgent, deps: [], input: { mode: 'candidate', repo: input.repo, dir: join(input.work, 'candidates', id), mutant: ref, testCmd: input.testCmd, failingFiles, baselineTests: base.tests.total }, timeout_ms: candidateTimeout, ...(input.candidateMemoryMb ? { memory_mb: input.candidateMemoryMb } : {}) });
      inFlight.set(id, { c, rank: next });
      next++;
    }
    if (inFlight.size === 0 && passed.length > 0 && input.vet !== false && next < queue.length && next >= limit && round < MAX_MID_CHECKS && Date.now() < deadline && res.stopped === 'exhausted') {
      if (mustSearchOn(await vetNow())) {
        const more = AFTER_WIN * 2 ** (round - 1);
        ctx.log(`every plausible patch so far is unconfirmed (drift next to passing tests): testing ${more} more candidates`);
        limit = next + more;
        continue;
      }
    }
    if (inFlight.size === 0) break;
    // Resolves at the first candidate that finished its run (every finished one reports done: true), or
    // when all in flight are final (the rest were killed).
    const answer = (await ctx.wait({ tasks: [...inFlight.keys()], until: 'first', field: 'done' })) as WaitAnswer;
    for (const t of answer.tasks) {
      if (!['succeeded', 'failed', 'skipped'].includes(t.state)) continue;
      const f = inFlight.get(t.id)!;
      inFlight.delete(t.id);
      const out = t.output as CandidateResult | null;
      const verdict = verdictOf(t, out);
      record(res, t.id, f.c, verdict, out?.ms ?? null);
      if (verdict === 'pass') {
        passed.push({ c: f.c, rank: f.rank, task: t.id });
        limit = Math.min(limit, f.rank + 1 + AFTER_WIN);
      }
    }
    // Candidates ranked after the window past the best pass are not needed.
    const late = [...inFlight.entries()].filter(([, f]) => f.rank >= limit).map(([id]) => id);
    if (late.length) {
      await ctx.cancel(late, 'a better-ranked candidate already passes').catch(() => {});
      for (const id of late) {
        record(res, id, inFlight.get(id)!.c, 'cancelled', null);
        inFlight.delete(id);
      }
    }
    if (res.stopped === 'deadline' || res.stopped === 'task_limit') {
      if (inFlight.size === 0) break;
    }
  }
  passed.sort((a, b) => a.rank - b.rank);
  if (passed.length > 0 && input.vet !== false) {
    res.vet = await vetNow();
    // The patch reported first is the one the check chose (the best-ranked clean one), not always rank 1.
    const k = passed.findIndex((p) => p.task === res.vet!.chosen);
    if (k > 0) passed.unshift(...passed.splice(k, 1));
  }
  res.plausible = passed.map((p) => ({ task: p.task, description: p.c.description, kind: p.c.kind, source: p.c.source, score: p.c.score, size: p.c.size }));
  const w = passed[0];
  if (w) {
    res.winner = { id: w.c.id, file: w.c.file, start: w.c.start, end: w.c.end, replacement: w.c.replacement, description: w.c.description, line: w.c.line, original: w.c.original, task: w.task, kind: w.c.kind, source: w.c.source, score: w.c.score, size: w.c.size };
    res.stopped = 'winner';
    res.confidence = res.vet?.confidence ?? 'fix';
  } else if (queue.length === 0) res.stopped = 'nothing_to_try';
  res.candidates.sort((a, b) => a.task.localeCompare(b.task));
  return res;
}

function verdictOf(t: WaitAnswer['tasks'][number], out: CandidateResult | null): Verdict {
  if (t.error?.kind === 'cancelled' || t.state === 'skipped') return 'cancelled';
  if (t.state === 'succeeded') return out?.pass ? 'pass' : out?.weakened ? 'weakened' : 'fail';
  const kind = t.failures[t.failures.length - 1]?.kind ?? t.error?.kind ?? 'error';
  return kind === 'timeout' || kind === 'memory' || kind === 'crash' || kind === 'sandbox' ? kind : 'error';
}

function record(res: SearchResult, task: string, c: Candidate, verdict: Verdict, ms: number | null): void {
  if (verdict === 'timeout') res.killed.timeout++;
  else if (verdict === 'memory') res.killed.memory++;
  else if (verdict === 'weakened') res.weakened++;
  else if (verdict === 'crash' || verdict === 'sandbox' || verdict === 'error') res.errors++;
  if (verdict === 'cancelled') res.cancelled++;
  else res.tried++;
  res.candidates.push({ task, mutant: c.id, description: c.description, kind: c.kind, source: c.source, score: c.score, size: c.size, verdict, ms });
}

/** An earlier attempt of this task that died mid-search may have left candidates running: end them. */
async function cancelEarlierAttempts(ctx: SearchCtx, prefix: string): Promise<void> {
  for (let k = 1; k < ctx.task.attempt; k++) {
    for (let r = 1; r <= MAX_MID_CHECKS + 1; r++) await ctx.cancel([`${prefix}-a${k}-probe${r > 1 ? r : ''}`], 'superseded by a retry of the search').catch(() => {});
    for (let i = 1; i <= TASK_LIMIT; i++) {
      const ok = await ctx.cancel([`${prefix}-a${k}-${String(i).padStart(3, '0')}`], 'superseded by a retry of the search').then(() => true, (e: { code?: string }) => e.code !== 'E_UNKNOWN_TASK');
      if (!ok) break; // ids are spawned in order: the first unknown one ends the list
    }
  }
}
