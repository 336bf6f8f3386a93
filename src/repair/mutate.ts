/**
 * Program mutations for the repair search, on the real syntax tree (acorn), so strings, comments and
 * regexes are never touched. Three families live in their own files: operators (ops-operators.ts),
 * expressions (ops-expressions.ts) and statements (ops-statements.ts); this file holds what they share
 * (through ast.ts and mutation-types.ts) and `mutantsOf`, which runs them over the lines asked for and drops every mutant that does not parse
 * or is, after normalisation (the syntax tree without positions or parentheses), a duplicate or a no-op.
 */
import type { Node } from 'acorn';
import { fullAncestor } from 'acorn-walk';
import { operatorMutants } from './ops-operators.js';
import { expressionMutants } from './ops-expressions.js';
import { statementMutants } from './ops-statements.js';
import { analyseScopes } from './scope.js';

export { lineOf, lineStarts, normalForm, operatorAt, parseJs, parses, short, text, type AnyNode } from './ast.js';
export type { Mutant, MutationKind, MutationSite } from './mutation-types.js';
import { lineStarts, lineOf, normalForm, parseJs, type AnyNode } from './ast.js';
import type { Mutant, MutationKind, MutationSite } from './mutation-types.js';

export function applyMutant(source: string, m: Pick<Mutant, 'start' | 'end' | 'replacement'>): string {
  return source.slice(0, m.start) + m.replacement + source.slice(m.end);
}

/**
 * Every mutant of one file whose line is in `lines` (all lines when absent), parse-checked and
 * deduplicated, in source order. Returns [] for a file that does not parse.
 */
export function mutantsOf(file: string, source: string, lines?: ReadonlySet<number>): Mutant[] {
  let ast: Node;
  try {
    ast = parseJs(source);
  } catch {
    return [];
  }
  const starts = lineStarts(source);
  const scopes = analyseScopes(ast, source);
  const raw: Mutant[] = [];
  const seen = new Set<string>();
  const add = (start: number, end: number, replacement: string, kind: MutationKind, what: string, anchor = start): void => {
    const original = source.slice(start, end);
    if (original === replacement) return;
    const line = lineOf(starts, anchor);
    if (lines && !lines.has(line)) return;
    const id = `${file}:${start}:${end}:${kind}:${replacement}`;
    if (seen.has(id)) return;
    seen.add(id);
    const size = editSize(original, replacement);
    raw.push({ id, file, line, start, end, original, replacement, kind, description: `${file}:${line}: ${what}`, size });
  };
  fullAncestor(ast, (n, _state, ancestors) => {
    const site: MutationSite = { source, node: n as AnyNode, ancestors: ancestors as AnyNode[], scopes, add };
    operatorMutants(site);
    expressionMutants(site);
    statementMutants(site);
  });
  // Higher priors first, so a duplicate keeps the simpler description.
  raw.sort((a, b) => PRIOR[b.kind] - PRIOR[a.kind] || a.start - b.start);
  return dedupe(source, raw).sort((a, b) => a.start - b.start);
}

/** Characters changed, once the common prefix and suffix are set aside (at least 1). */
export function editSize(original: string, replacement: string): number {
  let p = 0;
  while (p < original.length && p < replacement.length && original[p] === replacement[p]) p++;
  let q = 0;
  while (q < original.length - p && q < replacement.length - p && original[original.length - 1 - q] === replacement[replacement.length - 1 - q]) q++;
  return Math.max(1, original.length - p - q, replacement.length - p - q);
}

/**
 * How likely a fix of each kind is, before the tests say anything: simple, common one-token fixes
 * first (operator boundaries, off-by-one), then other operators, then expression rewrites, then
 * inserted or removed statements. Guards come in dozens per statement (terms × return values), so
 * each one gets a lower prior than a condition widened or narrowed. A candidate's rank is
 * suspiciousness × prior × a size factor (candidates.ts).
 */
export const PRIOR: Record<MutationKind, number> = {
  model: 2, relational: 1, off_by_one: 0.95, equality: 0.9, arithmetic: 0.85, logical: 0.85, negate: 0.8, plus_minus_one: 0.8,
  assignment: 0.75, update: 0.7, boolean: 0.7, method: 0.7, swap_operands: 0.65, variable: 0.6, swap_args: 0.6, unary: 0.55,
  bitwise: 0.5, literal_to_var: 0.5, guard: 0.35, insert_call: 0.45, narrow: 0.45, widen: 0.45, remove_stmt: 0.4, swap_stmts: 0.35,
  clamp: 0.35, negate_expr: 0.3, square: 0.25, pair: 0.2,
};

/** Drop mutants that do not parse, that change nothing, or that equal an earlier one after normalisation. */
export function dedupe<M extends Pick<Mutant, 'start' | 'end' | 'replacement'>>(source: string, ms: M[], known: Set<string> = new Set()): M[] {
  const original = normalForm(source);
  if (original !== null) known.add(original);
  const out: M[] = [];
  for (const m of ms) {
    const form = normalForm(applyMutant(source, m));
    if (form === null || known.has(form)) continue;
    known.add(form);
    out.push(m);
  }
  return out;
}
