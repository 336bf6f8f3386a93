/**
 * Candidate patches for the search, ranked: every mutant of the suspicious lines scored by
 * suspiciousness × the prior of its kind (mutate.ts PRIOR) × a small penalty for larger edits; then,
 * once the singles are spent, pairs of the best singles on the same or neighbouring lines. Candidates
 * that do not parse or equal another after normalisation never reach a test process. The budget grows
 * with the search space.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Analysis } from './analyse.js';
import { applyMutant, dedupe, editSize, mutantsOf, normalForm, PRIOR, type Mutant, type MutationKind } from './mutate.js';

export type Candidate = Mutant & { score: number; source: 'search' | 'model' };

/**
 * Single-edit candidates tested at most (model proposals and pairs come on top): with `auto`, 100 plus
 * half the search space, up to 600 — a small space is tried whole, a large one mostly; a number caps
 * it exactly (`--max-candidates N`). The search's time limit may stop it earlier.
 */
export function singleBudget(space: number, max: number | 'auto'): number {
  return Math.min(space, max === 'auto' ? Math.min(600, 100 + Math.ceil(space / 2)) : max);
}
/** Pairs tested at most once the singles are exhausted: a quarter of the single budget, 30 to 150. */
export function pairBudget(singles: number): number {
  return Math.max(30, Math.min(150, Math.ceil(singles / 4)));
}

/** Larger edits rank a little lower (down to 0.7 of an edit of one character). */
const sizeFactor = (size: number): number => 1 / (1 + 0.03 * Math.min(size - 1, 14));

export function rankOf(c: Pick<Candidate, 'score' | 'size'>, b: Pick<Candidate, 'score' | 'size'>): number {
  return b.score - c.score || c.size - b.size;
}

/** Mutants of the suspicious lines, best first (all source files when nothing is known). */
export function rankCandidates(repo: string, analysis: Pick<Analysis, 'suspicious' | 'source_files'>, kinds?: MutationKind[]): Candidate[] {
  const byFile = new Map<string, Map<number, number>>();
  for (const s of analysis.suspicious) {
    const m = byFile.get(s.file) ?? new Map<number, number>();
    m.set(s.line, s.score);
    byFile.set(s.file, m);
  }
  const files = byFile.size > 0 ? [...byFile.keys()] : analysis.source_files;
  const out: Candidate[] = [];
  for (const file of files) {
    let source: string;
    try {
      source = readFileSync(join(repo, file), 'utf8');
    } catch {
      continue;
    }
    const lines = byFile.get(file);
    for (const m of mutantsOf(file, source, lines ? new Set(lines.keys()) : undefined)) {
      if (kinds && !kinds.includes(m.kind)) continue;
      const susp = lines ? (lines.get(m.line) ?? 0) : 0.1;
      out.push({ ...m, score: round(susp * PRIOR[m.kind] * sizeFactor(m.size)), source: 'search' });
    }
  }
  return out.sort((a, b) => rankOf(a, b) || a.file.localeCompare(b.file) || a.start - b.start);
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * Two edits at once: pairs of the best `top` singles in one file, on lines at most `reach` apart, not
 * overlapping, as one candidate replacing the region that spans both. Parse-checked and deduplicated
 * against each other and against every single (a pair equal to a single is dropped).
 */
export function pairCandidates(repo: string, singles: readonly Candidate[], limit: number, top = 40, reach = 2): Candidate[] {
  const best = singles.filter((s) => s.source === 'search').slice(0, top);
  const pairs: Candidate[] = [];
  for (let i = 0; i < best.length; i++) {
    for (let j = i + 1; j < best.length; j++) {
      const a = best[i]!;
      const b = best[j]!;
      if (a.file !== b.file || Math.abs(a.line - b.line) > reach) continue;
      if (!(a.end <= b.start || b.end <= a.start)) continue;
      const [x, y] = a.start < b.start ? [a, b] : [b, a];
      pairs.push({
        id: `${a.id}+${b.id}`, file: a.file, line: Math.min(a.line, b.line), start: x.start, end: y.end, original: '', replacement: '', kind: 'pair',
        description: `${a.description} and ${b.description.slice(b.description.indexOf(': ') + 2)}`, size: a.size + b.size, score: round(a.score * b.score), source: 'search',
        // The region's text: filled in below, with the source at hand.
        ...{ parts: [x, y] },
      } as Candidate);
    }
  }
  pairs.sort(rankOf);
  const bySource = new Map<string, string>();
  const known = new Map<string, Set<string>>();
  const out: Candidate[] = [];
  for (const p of pairs) {
    if (out.length >= limit) break;
    let source = bySource.get(p.file);
    if (source === undefined) {
      source = readFileSync(join(repo, p.file), 'utf8');
      bySource.set(p.file, source);
      known.set(p.file, new Set(singles.filter((s) => s.file === p.file).map((s) => normalForm(applyMutant(source!, s))).filter((f): f is string => f !== null)));
    }
    const [x, y] = (p as Candidate & { parts: [Candidate, Candidate] }).parts;
    p.original = source.slice(x.start, y.end);
    p.replacement = x.replacement + source.slice(x.end, y.start) + y.replacement;
    p.size = editSize(p.original, p.replacement);
    delete (p as Partial<Candidate & { parts: unknown }>).parts;
    if (dedupe(source, [p], known.get(p.file)).length > 0) out.push(p);
  }
  return out;
}
