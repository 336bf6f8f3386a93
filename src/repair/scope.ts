/**
 * A light scope model for the expression and statement mutations: which variables each function (and
 * the module) declares, a guessed kind for each (number, sequence — array or string —, boolean, other)
 * from its initialiser and its uses, and what each function already contains that a fix may reuse:
 * comparison terms, return values and calls made on an object.
 */
import type { Node } from 'acorn';
import { fullAncestor } from 'acorn-walk';
import type { AnyNode } from './ast.js';

export type VarKind = 'num' | 'seq' | 'bool' | 'other';

export interface ScopeVar {
  name: string;
  kind: VarKind;
  /** Offset of the declaration: a use before it cannot refer to it. */
  declared: number;
}

interface FnInfo {
  node: AnyNode;
  literals: Map<string, number>;
  vars: Map<string, { declared: number; votes: Record<VarKind, number> }>;
  terms: string[];
  returns: string[];
  calls: Array<{ start: number; end: number; object: string; args: string[] }>;
}

export interface Scopes {
  /** Variables visible at `offset` inside the chain of `ancestors`, innermost first, with their kinds. */
  varsAt(ancestors: readonly AnyNode[], offset: number): ScopeVar[];
  /** The kind of a name at this point (undefined: not a local or module variable). */
  kindOf(ancestors: readonly AnyNode[], name: string): VarKind | undefined;
  /** The innermost function (or the program) around a node. */
  fnOf(ancestors: readonly AnyNode[]): AnyNode;
  /** Comparison terms (source text) in the top-level function around a node (nested ones included). */
  terms(fn: AnyNode): string[];
  /** Number literals (source text) in a function, most frequent first. */
  literals(fn: AnyNode): string[];
  /** Simple return values (source text) of a function. */
  returns(fn: AnyNode): string[];
  /** Expression statements that call a method on a named object, in a function. */
  calls(fn: AnyNode): Array<{ start: number; end: number; object: string; args: string[] }>;
}

const isFn = (n: AnyNode): boolean => n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression' || n.type === 'Program';
const REL = new Set(['<', '<=', '>', '>=', '===', '!==', '==', '!=']);
const ARITH = new Set(['-', '*', '/', '%', '**', '<', '<=', '>', '>=']);

function kindOfInit(n: AnyNode | null | undefined): VarKind | undefined {
  if (!n) return undefined;
  if (n.type === 'Literal') return typeof n.value === 'number' ? 'num' : typeof n.value === 'string' ? 'seq' : typeof n.value === 'boolean' ? 'bool' : undefined;
  if (n.type === 'ArrayExpression' || n.type === 'TemplateLiteral') return 'seq';
  if (n.type === 'UnaryExpression' && n.operator === '-') return 'num';
  if (n.type === 'UnaryExpression' && n.operator === '!') return 'bool';
  if (n.type === 'BinaryExpression') return REL.has(n.operator as string) ? 'bool' : ARITH.has(n.operator as string) ? 'num' : undefined;
  if (n.type === 'MemberExpression' && !n.computed && (n.property as AnyNode).name === 'length') return 'num';
  if (n.type === 'CallExpression') {
    const c = n.callee as AnyNode;
    if (c.type === 'MemberExpression' && (c.object as AnyNode).name === 'Math') return 'num';
    if (c.type === 'MemberExpression' && ['slice', 'map', 'filter', 'concat', 'split', 'substring', 'trim', 'join'].includes((c.property as AnyNode).name as string)) return 'seq';
    if (c.type === 'MemberExpression' && ['indexOf', 'findIndex', 'lastIndexOf'].includes((c.property as AnyNode).name as string)) return 'num';
  }
  return undefined;
}

function kindOfVotes(votes: Record<VarKind, number>): VarKind {
  const best = (Object.entries(votes) as Array<[VarKind, number]>).sort((a, b) => b[1] - a[1])[0]!;
  return best[1] > 0 ? best[0] : 'other';
}

export function analyseScopes(ast: Node, source: string): Scopes {
  const infos = new Map<AnyNode, FnInfo>();
  const info = (fn: AnyNode): FnInfo => {
    let i = infos.get(fn);
    if (!i) infos.set(fn, (i = { node: fn, literals: new Map(), vars: new Map(), terms: [], returns: [], calls: [] }));
    return i;
  };
  const declare = (fn: AnyNode, id: AnyNode | null | undefined, at: number, kind?: VarKind): void => {
    if (!id) return;
    if (id.type === 'AssignmentPattern') return declare(fn, id.left as AnyNode, at, kind ?? kindOfInit(id.right as AnyNode));
    if (id.type === 'RestElement') return declare(fn, id.argument as AnyNode, at, 'seq');
    if (id.type === 'ArrayPattern') return (id.elements as AnyNode[]).forEach((e) => declare(fn, e, at));
    if (id.type === 'ObjectPattern') return (id.properties as AnyNode[]).forEach((p) => declare(fn, (p.value ?? p.argument) as AnyNode, at));
    if (id.type !== 'Identifier') return;
    const v = info(fn).vars.get(id.name as string) ?? { declared: at, votes: { num: 0, seq: 0, bool: 0, other: 0 } };
    if (kind) v.votes[kind] += 2;
    info(fn).vars.set(id.name as string, v);
  };
  const fnOf = (ancestors: readonly AnyNode[]): AnyNode => {
    for (let i = ancestors.length - 1; i >= 0; i--) if (isFn(ancestors[i]!)) return ancestors[i]!;
    return ancestors[0]!;
  };
  const topFnOf = (ancestors: readonly AnyNode[]): AnyNode => ancestors.find((a) => isFn(a) && a.type !== 'Program') ?? ancestors[0]!;
  /** The function that declares `name`, seen from the ancestors (innermost first). */
  const binding = (ancestors: readonly AnyNode[], name: string): FnInfo | undefined => {
    for (let i = ancestors.length - 1; i >= 0; i--) {
      const a = ancestors[i]!;
      if (isFn(a) && infos.get(a)?.vars.has(name)) return infos.get(a);
    }
    return undefined;
  };
  // Pass 1: declarations.
  fullAncestor(ast, (raw, _s, anc) => {
    const n = raw as AnyNode;
    const ancestors = anc as AnyNode[];
    if (n.type === 'VariableDeclarator') {
      const decl = ancestors[ancestors.length - 2];
      const fn = decl?.kind === 'var' ? fnOf(ancestors) : fnOf(ancestors);
      declare(fn, n.id as AnyNode, n.start, kindOfInit(n.init as AnyNode));
    } else if (isFn(n) && n.type !== 'Program') {
      if (n.id && n.type === 'FunctionDeclaration') declare(fnOf(ancestors.slice(0, -1)), n.id as AnyNode, 0);
      for (const p of n.params as AnyNode[]) declare(n, p, n.start);
    } else if (n.type === 'CatchClause' && n.param) declare(fnOf(ancestors), n.param as AnyNode, n.start);
    else if (n.type === 'Program') info(n);
  });
  const kindAt = (ancestors: readonly AnyNode[], name: string): VarKind | undefined => {
    const v = binding(ancestors, name)?.vars.get(name);
    return v ? kindOfVotes(v.votes) : undefined;
  };
  // Pass 2: evidence of kinds from uses; terms, returns and calls per function.
  const vote = (ancestors: readonly AnyNode[], id: AnyNode, kind: VarKind): void => {
    if (id.type !== 'Identifier') return;
    const v = binding(ancestors, id.name as string)?.vars.get(id.name as string);
    if (v) v.votes[kind]++;
  };
  fullAncestor(ast, (raw, _s, anc) => {
    const n = raw as AnyNode;
    const ancestors = anc as AnyNode[];
    const fn = info(fnOf(ancestors));
    if (n.type === 'MemberExpression') {
      const prop = n.property as AnyNode;
      if (n.computed) {
        vote(ancestors, n.object as AnyNode, 'seq');
        vote(ancestors, prop, 'num');
      } else if (prop.name === 'length') vote(ancestors, n.object as AnyNode, 'seq');
    } else if (n.type === 'UpdateExpression') vote(ancestors, n.argument as AnyNode, 'num');
    else if (n.type === 'AssignmentExpression' && ['-=', '*=', '/=', '%='].includes(n.operator as string)) vote(ancestors, n.left as AnyNode, 'num');
    else if (n.type === 'BinaryExpression' && ARITH.has(n.operator as string)) {
      vote(ancestors, n.left as AnyNode, 'num');
      vote(ancestors, n.right as AnyNode, 'num');
    }
    if (n.type === 'Literal' && typeof n.value === 'number') {
      const t = source.slice(n.start, n.end);
      fn.literals.set(t, (fn.literals.get(t) ?? 0) + 1);
    }
    if ((n.type === 'BinaryExpression' && REL.has(n.operator as string)) || (n.type === 'CallExpression' && /^(includes|has|startsWith|endsWith|some|every|isArray|isInteger)$/.test(String(((n.callee as AnyNode).property as AnyNode | undefined)?.name ?? '')))) {
      const t = source.slice(n.start, n.end);
      // Terms count for the top-level function around them, so a loop sees its callbacks' conditions.
      const top = info(topFnOf(ancestors));
      if (t.length <= 60 && !top.terms.includes(t)) top.terms.push(t);
    }
    if (n.type === 'ReturnStatement' && n.argument) {
      const t = source.slice((n.argument as AnyNode).start, (n.argument as AnyNode).end);
      if (t.length <= 40 && !fn.returns.includes(t)) fn.returns.push(t);
    }
    if (n.type === 'ExpressionStatement' && (n.expression as AnyNode).type === 'CallExpression') {
      const callee = (n.expression as AnyNode).callee as AnyNode;
      if (callee.type === 'MemberExpression' && (callee.object as AnyNode).type === 'Identifier') {
        const object = (callee.object as AnyNode).name as string;
        // Checks that could guard the call: its identifier arguments are non-empty (or truthy).
        const args = ((n.expression as AnyNode).arguments as AnyNode[]).filter((a) => a.type === 'Identifier').map((a) => a.name as string);
        const checks = args.map((a) => (kindAt(ancestors, a) === 'seq' ? `${a}.length > 0` : a));
        fn.calls.push({ start: n.start, end: n.end, object, args: checks });
        // A call under its own guard (`if (cur) out.push(cur);`) is offered with the guard too.
        const p = ancestors[ancestors.length - 2];
        const pp = ancestors[ancestors.length - 3];
        const guard = p?.type === 'IfStatement' && !p.alternate ? p : p?.type === 'BlockStatement' && (p.body as AnyNode[]).length === 1 && pp?.type === 'IfStatement' && !pp.alternate ? pp : undefined;
        if (guard && source.slice(guard.start, guard.end).length <= 80) fn.calls.push({ start: guard.start, end: guard.end, object, args: [] });
      }
    }
  });
  return {
    varsAt(ancestors, offset) {
      const out: ScopeVar[] = [];
      const names = new Set<string>();
      for (let i = ancestors.length - 1; i >= 0; i--) {
        const fi = infos.get(ancestors[i]!);
        if (!fi || !isFn(ancestors[i]!)) continue;
        for (const [name, v] of fi.vars) {
          if (names.has(name) || v.declared > offset) continue;
          names.add(name);
          out.push({ name, kind: kindOfVotes(v.votes), declared: v.declared });
        }
      }
      return out;
    },
    kindOf(ancestors, name) {
      const v = binding(ancestors, name)?.vars.get(name);
      return v ? kindOfVotes(v.votes) : undefined;
    },
    fnOf,
    terms: (fn) => {
      // fn may be nested: its terms are kept on the top-level function that holds it.
      let top = fn;
      for (const fi of infos.values()) if (fi.node.type !== 'Program' && fi.node.start <= fn.start && fn.end <= fi.node.end && fi.node.end - fi.node.start > top.end - top.start) top = fi.node;
      return infos.get(top)?.terms ?? [];
    },
    literals: (fn) => [...(infos.get(fn)?.literals.entries() ?? [])].sort((a, b) => b[1] - a[1]).map(([t]) => t),
    returns: (fn) => infos.get(fn)?.returns ?? [],
    calls: (fn) => infos.get(fn)?.calls ?? [],
  };
}
