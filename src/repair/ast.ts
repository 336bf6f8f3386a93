/** Parsing and source-text helpers the mutation families share (a leaf of the repair library). */
import { parse, type Node } from 'acorn';

/** A node with the fields the walkers read. `unknown` values: the tree is acorn's untyped ESTree. */
export type AnyNode = Node & Record<string, unknown>;

export function parseJs(source: string): Node {
  try {
    return parse(source, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true, allowAwaitOutsideFunction: true });
  } catch {
    return parse(source, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true });
  }
}

export function parses(source: string): boolean {
  try {
    parseJs(source);
    return true;
  } catch {
    return false;
  }
}

/** The syntax tree as text without positions, raw forms or parentheses: equal for equivalent sources. */
export function normalForm(source: string): string | null {
  let ast: Node;
  try {
    ast = parseJs(source);
  } catch {
    return null;
  }
  return JSON.stringify(ast, (k, v: unknown) => (k === 'start' || k === 'end' || k === 'raw' || k === 'loc' || k === 'range' ? undefined : v));
}

export function lineStarts(source: string): number[] {
  const starts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

export function lineOf(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** Offset of a binary operator between two operands (skipping spaces, comments and parentheses). */
export function operatorAt(source: string, from: number, to: number, op: string): number {
  const gap = source.slice(from, to);
  // Blank out comments so an operator inside one is never chosen.
  const clean = gap.replace(/\/\*[\s\S]*?\*\//g, (m) => ' '.repeat(m.length)).replace(/\/\/[^\n]*/g, (m) => ' '.repeat(m.length));
  const i = clean.indexOf(op);
  return i < 0 ? -1 : from + i;
}

export const short = (s: string): string => (s.length > 40 ? `${s.slice(0, 37)}...` : s).replace(/\s+/g, ' ');
export const text = (source: string, n: { start: number; end: number }): string => source.slice(n.start, n.end);

