/**
 * Program mutations for the repair search: relational, arithmetic and logical operator swaps, off-by-one
 * changes to integer constants, ++/-- and compound-assignment swaps, negated conditions and swapped
 * operands. Works on the real syntax tree (acorn), so strings, comments and regexes are never touched,
 * and every mutant is re-parsed: one that does not parse is dropped.
 */
import { parse, type Node } from 'acorn';
import { full } from 'acorn-walk';

export type MutationKind = 'relational' | 'arithmetic' | 'logical' | 'off_by_one' | 'update' | 'assignment' | 'negate' | 'swap_operands' | 'boolean' | 'model';

export interface Mutant {
  /** Stable within one file and source: `<file>:<start>:<kind>:<replacement>`. */
  id: string;
  /** Path relative to the repository root, with / separators. */
  file: string;
  line: number;
  start: number;
  end: number;
  original: string;
  replacement: string;
  kind: MutationKind;
  description: string;
}

const REL: Record<string, string[]> = { '<': ['<=', '>'], '<=': ['<', '>='], '>': ['>=', '<'], '>=': ['>', '<='], '===': ['!=='], '!==': ['==='], '==': ['!='], '!=': ['=='] };
const ARITH: Record<string, string[]> = { '+': ['-'], '-': ['+'], '*': ['/'], '/': ['*'], '%': ['*'], '**': ['*'] };
const LOGIC: Record<string, string[]> = { '&&': ['||'], '||': ['&&'], '??': ['||'] };
const ASSIGN: Record<string, string[]> = { '+=': ['-='], '-=': ['+='], '*=': ['/='], '/=': ['*='] };
const NON_COMMUTATIVE = new Set(['-', '/', '%', '**', '<', '<=', '>', '>=']);

type AnyNode = Node & Record<string, unknown>;

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

function lineStarts(source: string): number[] {
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
function operatorAt(source: string, from: number, to: number, op: string): number {
  const gap = source.slice(from, to);
  // Blank out comments so an operator inside one is never chosen.
  const clean = gap.replace(/\/\*[\s\S]*?\*\//g, (m) => ' '.repeat(m.length)).replace(/\/\/[^\n]*/g, (m) => ' '.repeat(m.length));
  const i = clean.indexOf(op);
  return i < 0 ? -1 : from + i;
}

export function applyMutant(source: string, m: Pick<Mutant, 'start' | 'end' | 'replacement'>): string {
  return source.slice(0, m.start) + m.replacement + source.slice(m.end);
}

/** Every mutant of one file, in source order. Returns [] for a file that does not parse. */
export function mutantsOf(file: string, source: string): Mutant[] {
  let ast: Node;
  try {
    ast = parseJs(source);
  } catch {
    return [];
  }
  const starts = lineStarts(source);
  const out: Mutant[] = [];
  const seen = new Set<string>();
  const add = (start: number, end: number, replacement: string, kind: MutationKind, what: string): void => {
    const original = source.slice(start, end);
    if (original === replacement) return;
    const id = `${file}:${start}:${kind}:${replacement}`;
    if (seen.has(id)) return;
    seen.add(id);
    const line = lineOf(starts, start);
    out.push({ id, file, line, start, end, original, replacement, kind, description: `${file}:${line}: ${what}` });
  };
  const short = (s: string): string => (s.length > 40 ? `${s.slice(0, 37)}...` : s).replace(/\s+/g, ' ');

  full(ast, (raw) => {
    const n = raw as AnyNode;
    switch (n.type) {
      case 'BinaryExpression':
      case 'LogicalExpression': {
        const left = n.left as AnyNode;
        const right = n.right as AnyNode;
        const op = n.operator as string;
        const at = operatorAt(source, left.end, right.start, op);
        if (at < 0) break;
        const table = n.type === 'LogicalExpression' ? LOGIC : (REL[op] ? REL : ARITH);
        const kind: MutationKind = n.type === 'LogicalExpression' ? 'logical' : REL[op] ? 'relational' : 'arithmetic';
        const expr = short(source.slice(n.start, n.end));
        for (const to of table[op] ?? []) add(at, at + op.length, to, kind, `\`${op}\` -> \`${to}\` in \`${expr}\``);
        if (NON_COMMUTATIVE.has(op)) {
          const l = source.slice(n.start, at).trim();
          const r = source.slice(at + op.length, n.end).trim();
          add(n.start, n.end, `${r} ${op} ${l}`, 'swap_operands', `swap operands of \`${short(source.slice(n.start, n.end))}\``);
        }
        break;
      }
      case 'Literal': {
        if (typeof n.value === 'number' && Number.isInteger(n.value) && /^\d+$/.test(source.slice(n.start, n.end))) {
          const v = n.value;
          add(n.start, n.end, String(v + 1), 'off_by_one', `constant ${v} -> ${v + 1}`);
          if (v > 0) add(n.start, n.end, String(v - 1), 'off_by_one', `constant ${v} -> ${v - 1}`);
        } else if (typeof n.value === 'boolean') {
          add(n.start, n.end, String(!n.value), 'boolean', `${String(n.value)} -> ${String(!n.value)}`);
        }
        break;
      }
      case 'UpdateExpression': {
        const op = n.operator as string;
        const to = op === '++' ? '--' : '++';
        const arg = n.argument as AnyNode;
        const at = n.prefix ? n.start : arg.end + source.slice(arg.end, n.end).indexOf(op);
        add(at, at + 2, to, 'update', `\`${op}\` -> \`${to}\``);
        break;
      }
      case 'AssignmentExpression': {
        const op = n.operator as string;
        const left = n.left as AnyNode;
        const right = n.right as AnyNode;
        const at = operatorAt(source, left.end, right.start, op);
        if (at >= 0) for (const to of ASSIGN[op] ?? []) add(at, at + op.length, to, 'assignment', `\`${op}\` -> \`${to}\``);
        break;
      }
      case 'IfStatement':
      case 'WhileStatement':
      case 'DoWhileStatement':
      case 'ForStatement':
      case 'ConditionalExpression': {
        const test = n.test as AnyNode | null;
        if (!test) break;
        const text = source.slice(test.start, test.end);
        add(test.start, test.end, `!(${text})`, 'negate', `negate condition \`${short(text)}\``);
        break;
      }
      case 'UnaryExpression': {
        if (n.operator === '!') {
          const arg = n.argument as AnyNode;
          add(n.start, n.end, source.slice(arg.start, arg.end), 'negate', `drop negation of \`${short(source.slice(arg.start, arg.end))}\``);
        }
        break;
      }
      default:
        break;
    }
  });
  // Keep only mutants that still parse.
  return out.filter((m) => parses(applyMutant(source, m))).sort((a, b) => a.start - b.start);
}
