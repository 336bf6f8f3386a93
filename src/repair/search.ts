/**
 * The patch agent's search: mutants of the suspicious lines, ranked by suspiciousness (model proposals
 * first when a model is configured), one dynamically inserted test task per candidate, the first that
 * makes the whole suite pass wins, the rest are cancelled.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Analysis } from './analyse.js';
import { applyMutant, mutantsOf, parses, type Mutant, type MutationKind } from './mutate.js';
import type { BaselineResult, CandidateResult, MutantRef } from './test-run.js';

/** The part of the handler context the search uses (see worker/host.ts). */
export interface SearchCtx {
  task: { id: string; attempt: number };
  spawn(t: { id: string; agent: string; deps?: string[]; input?: unknown; timeout_ms?: number; memory_mb?: number }): Promise<unknown>;
  wait(a: { tasks: string[]; until: 'all' | 'first'; field?: string }): Promise<unknown>;
  cancel(tasks: string[], reason?: string): Promise<unknown>;
  llm: { chat(a: unknown): Promise<unknown> };
  log: (msg: string, data?: unknown) => void;
}

export interface SearchInput {
  repo: string;
  work: string;
  testCmd: string;
  maxCandidates: number;
  /** Agent that tests one candidate. */
  testAgent: string;
  /** Candidate task id prefix. */
  prefix: string;
  /** Kinds to try (all when absent): the fallback uses a narrower set. */
  kinds?: MutationKind[];
  useModel: boolean;
  /** Time limit of one candidate run; default: 4 x the baseline suite + 2 s, within [3 s, 60 s]. */
  candidateTimeoutMs?: number | undefined;
  /** Memory quota (MiB) of one candidate run's process tree; default: the test agent's. */
  candidateMemoryMb?: number | undefined;
}

export interface CandidateOutcome {
  task: string;
  mutant: string;
  description: string;
  score: number;
  verdict: 'pass' | 'fail' | 'timeout' | 'memory' | 'cancelled' | 'crash' | 'sandbox' | 'error';
  ms: number | null;
}

export interface SearchResult {
  winner: (MutantRef & { line: number; original: string; task: string }) | null;
  candidates: CandidateOutcome[];
  generated: number;
  tried: number;
  killed: { timeout: number; memory: number };
  cancelled: number;
  model: { asked: boolean; proposals: number; error: string | null };
  candidate_timeout_ms: number;
}

const KIND_ORDER: MutationKind[] = ['model', 'relational', 'arithmetic', 'logical', 'off_by_one', 'negate', 'swap_operands', 'update', 'assignment', 'boolean'];

/** Mutants of the suspicious lines, most suspicious first (all source files when nothing is known). */
export function rankMutants(repo: string, analysis: Pick<Analysis, 'suspicious' | 'source_files'>, kinds?: MutationKind[]): Array<Mutant & { score: number }> {
  const scoreOf = new Map(analysis.suspicious.map((s) => [`${s.file}:${s.line}`, s.score]));
  const files = analysis.suspicious.length > 0 ? [...new Set(analysis.suspicious.map((s) => s.file))] : analysis.source_files;
  const out: Array<Mutant & { score: number }> = [];
  for (const file of files) {
    let source: string;
    try {
      source = readFileSync(join(repo, file), 'utf8');
    } catch {
      continue;
    }
    for (const m of mutantsOf(file, source)) {
      if (kinds && !kinds.includes(m.kind)) continue;
      const score = analysis.suspicious.length > 0 ? scoreOf.get(`${file}:${m.line}`) : 0;
      if (score === undefined) continue;
      out.push({ ...m, score });
    }
  }
  return out.sort((a, b) => b.score - a.score || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.file.localeCompare(b.file) || a.start - b.start);
}

/** Ask the model for a one-line fix; turned into a candidate only if it parses. */
async function modelProposals(ctx: SearchCtx, repo: string, analysis: Analysis): Promise<{ mutants: Array<Mutant & { score: number }>; error: string | null }> {
  const top = analysis.suspicious.slice(0, 5);
  if (top.length === 0) return { mutants: [], error: null };
  const snippets = top.map((s) => {
    const lines = readFileSync(join(repo, s.file), 'utf8').split('\n');
    return `${s.file}:${s.line}: ${lines[s.line - 1] ?? ''}`;
  });
  const failing = analysis.failing.map((f) => `- ${f.name}: ${(f.error ?? '').split('\n').slice(0, 4).join(' ')}`).join('\n');
  let reply: { content?: unknown };
  try {
    reply = (await ctx.llm.chat({
      messages: [
        { role: 'system', content: 'You repair JavaScript bugs. Answer with JSON only: {"file": "...", "line": N, "replacement": "the whole fixed line"}.' },
        { role: 'user', content: `Failing tests:\n${failing}\n\nMost suspicious lines:\n${snippets.join('\n')}\n\nPropose the one-line fix.` },
      ],
      max_tokens: 300,
    })) as { content?: unknown };
  } catch (err) {
    const e = err as Error & { code?: string };
    return { mutants: [], error: e.code === 'E_NO_LLM' ? null : `${e.code ?? 'error'}: ${e.message}` };
  }
  const text = typeof reply.content === 'string' ? reply.content : '';
  const json = /\{[\s\S]*\}/.exec(text)?.[0];
  try {
    const p = JSON.parse(json ?? '') as { file?: unknown; line?: unknown; replacement?: unknown };
    if (typeof p.file !== 'string' || typeof p.line !== 'number' || typeof p.replacement !== 'string') return { mutants: [], error: 'model answer lacks file/line/replacement' };
    const source = readFileSync(join(repo, p.file), 'utf8');
    const starts = [0];
    for (let i = 0; i < source.length; i++) if (source[i] === '\n') starts.push(i + 1);
    const start = starts[p.line - 1];
    if (start === undefined) return { mutants: [], error: `model named line ${p.line}, which ${p.file} does not have` };
    const nl = source.indexOf('\n', start);
    const end = nl < 0 ? source.length : nl;
    const m = { id: `${p.file}:${start}:model:${p.replacement}`, file: p.file, line: p.line, start, end, original: source.slice(start, end), replacement: p.replacement, kind: 'model' as const, description: `${p.file}:${p.line}: model proposal`, score: Infinity };
    if (m.original === m.replacement || !parses(applyMutant(source, m))) return { mutants: [], error: 'model proposal does not change or does not parse' };
    return { mutants: [m], error: null };
  } catch {
    return { mutants: [], error: 'model answer is not the JSON asked for' };
  }
}

interface WaitAnswer {
  winner: string | null;
  tasks: Array<{ id: string; state: string; output: unknown; error: { kind: string; message: string } | null; failures: Array<{ kind: string }> }>;
}

export async function searchRepair(input: SearchInput, analysis: Analysis, base: BaselineResult, ctx: SearchCtx): Promise<SearchResult> {
  const candidateTimeout = input.candidateTimeoutMs ?? Math.max(3000, Math.min(60_000, base.ms * 4 + 2000));
  const model = { asked: false, proposals: 0, error: null as string | null };
  let ranked = rankMutants(input.repo, analysis, input.kinds);
  const generated = ranked.length;
  if (input.useModel) {
    model.asked = true;
    const proposals = await modelProposals(ctx, input.repo, analysis);
    model.error = proposals.error;
    model.proposals = proposals.mutants.length;
    if (proposals.error === null && proposals.mutants.length === 0) model.asked = false; // no model configured
    ranked = [...proposals.mutants, ...ranked];
  }
  const chosen = ranked.slice(0, input.maxCandidates);
  ctx.log(`${generated} mutants of ${analysis.suspicious.length} suspicious lines; testing the top ${chosen.length} in parallel (limit ${candidateTimeout} ms each)`);
  // An earlier attempt of this task that died mid-search may have left candidates running: end them.
  for (let k = 1; k < ctx.task.attempt; k++) {
    for (let i = 1; i <= input.maxCandidates; i++) {
      await ctx.cancel([`${input.prefix}-a${k}-${String(i).padStart(2, '0')}`], 'superseded by a retry of the search').catch(() => {});
    }
  }
  const ids: string[] = [];
  const byTask = new Map<string, (typeof chosen)[number]>();
  for (const [i, m] of chosen.entries()) {
    const id = `${input.prefix}-a${ctx.task.attempt}-${String(i + 1).padStart(2, '0')}`;
    const ref: MutantRef = { id: m.id, file: m.file, start: m.start, end: m.end, replacement: m.replacement, description: m.description };
    await ctx.spawn({ id, agent: input.testAgent, deps: [], input: { mode: 'candidate', repo: input.repo, dir: join(input.work, 'candidates', id), mutant: ref, testCmd: input.testCmd }, timeout_ms: candidateTimeout, ...(input.candidateMemoryMb ? { memory_mb: input.candidateMemoryMb } : {}) });
    ids.push(id);
    byTask.set(id, m);
  }
  const res: SearchResult = { winner: null, candidates: [], generated, tried: 0, killed: { timeout: 0, memory: 0 }, cancelled: 0, model, candidate_timeout_ms: candidateTimeout };
  if (ids.length === 0) return res;
  const answer = (await ctx.wait({ tasks: ids, until: 'first', field: 'pass' })) as WaitAnswer;
  const open = answer.tasks.filter((t) => t.state !== 'succeeded' && t.state !== 'failed' && t.state !== 'skipped').map((t) => t.id);
  if (open.length > 0) await ctx.cancel(open, answer.winner ? `candidate ${answer.winner} already passes` : 'search over');
  const cancelledNow = new Set(open);
  for (const t of answer.tasks) {
    const m = byTask.get(t.id)!;
    const out = t.output as CandidateResult | null;
    let verdict: CandidateOutcome['verdict'];
    if (cancelledNow.has(t.id) || t.error?.kind === 'cancelled') verdict = 'cancelled';
    else if (t.state === 'succeeded') verdict = out?.pass ? 'pass' : 'fail';
    else {
      const kind = t.failures[t.failures.length - 1]?.kind ?? t.error?.kind ?? 'error';
      verdict = kind === 'timeout' || kind === 'memory' || kind === 'crash' || kind === 'sandbox' ? kind : 'error';
    }
    if (verdict === 'timeout') res.killed.timeout++;
    if (verdict === 'memory') res.killed.memory++;
    if (verdict === 'cancelled') res.cancelled++;
    else res.tried++;
    res.candidates.push({ task: t.id, mutant: m.id, description: m.description, score: Number.isFinite(m.score) ? m.score : 1e9, verdict, ms: out?.ms ?? null });
  }
  if (answer.winner) {
    const m = byTask.get(answer.winner)!;
    res.winner = { id: m.id, file: m.file, start: m.start, end: m.end, replacement: m.replacement, description: m.description, line: m.line, original: m.original, task: answer.winner };
  }
  return res;
}
