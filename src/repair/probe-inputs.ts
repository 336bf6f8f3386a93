/**
 * Inputs for the differential check of plausible patches (vet.ts): the calls the test files make to
 * functions of the program's own modules, read from the test sources when every argument is a plain
 * value (literals, arrays and objects of them, constants of the test file, rows of a plain table a
 * for…of or forEach walks), and their neighbours — each
 * number ±1, an array or string one element shorter or empty, a boolean flipped, two adjacent arguments
 * of one type swapped. Arguments are kept as JavaScript source text (`[[1, 3, 5], 2]`) so undefined, NaN
 * and -0 survive the JSON between tasks.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fullAncestor } from 'acorn-walk';
import { parseJs, type AnyNode } from './ast.js';
import { isTestFile } from './repo.js';

/** One call to evaluate: module file (repository-relative), exported name, the arguments as source. */
export interface ProbeInput {
  file: string;
  /** Export name; `default` for a default export called directly. */
  fn: string;
  args: string;
  /** `fail`: a call of a failing test or its neighbour that equals one; `pass`: of a passing test; `seed` marks a call the tests make. */
  status: 'pass' | 'fail';
  seed: boolean;
}

/** Most inputs per check, and per call the tests make (seed plus neighbours). */
const MAX_INPUTS = 240;
const MAX_PER_SEED = 24;
const NOT_STATIC = Symbol('not static');

type Value = unknown;

/** The calls of the test files and their neighbours, deduplicated, seeds first; at most MAX_INPUTS. */
export function probeInputs(repo: string, testFiles: readonly string[], failingTests: ReadonlySet<string> | 'all'): ProbeInput[] {
  const seeds: Array<{ file: string; fn: string; args: Value[]; status: 'pass' | 'fail' }> = [];
  for (const tf of testFiles) {
    let source: string;
    try {
      source = readFileSync(join(repo, tf), 'utf8');
    } catch {
      continue;
    }
    seeds.push(...callsIn(tf, source, failingTests));
  }
  const out = new Map<string, ProbeInput>();
  const key = (i: Pick<ProbeInput, 'file' | 'fn' | 'args'>): string => `${i.file}\0${i.fn}\0${i.args}`;
  for (const s of seeds) {
    const k = key({ ...s, args: toSource(s.args) });
    const had = out.get(k);
    out.set(k, { file: s.file, fn: s.fn, args: toSource(s.args), status: had?.status === 'fail' || s.status === 'fail' ? 'fail' : 'pass', seed: true });
  }
  const derived = seeds.map((s) => neighbours(s.args).slice(0, MAX_PER_SEED).map((a) => ({ file: s.file, fn: s.fn, args: toSource(a), status: s.status, seed: false })));
  // Round robin over the seeds, so every call the tests make gets neighbours before the cap.
  for (let i = 0; i < MAX_PER_SEED && out.size < MAX_INPUTS; i++) {
    for (const list of derived) {
      const d = list[i];
      if (!d || out.size >= MAX_INPUTS) continue;
      if (!out.has(key(d))) out.set(key(d), d);
    }
  }
  return [...out.values()];
}

/** The calls one test file makes to imported functions of the program, with plain-value arguments. */
export function callsIn(testFile: string, source: string, failingTests: ReadonlySet<string> | 'all'): Array<{ file: string; fn: string; args: Value[]; status: 'pass' | 'fail' }> {
  let ast: AnyNode;
  try {
    ast = parseJs(source) as AnyNode;
  } catch {
    return [];
  }
  const imports = new Map<string, { file: string; name: string }>();
  const consts = new Map<string, Value>();
  const resolveSpec = (spec: unknown): string | null => {
    if (typeof spec !== 'string' || !spec.startsWith('.')) return null;
    const rel = relative('.', normalize(join(dirname(testFile), spec))).split('\\').join('/');
    return isTestFile(rel) || rel.startsWith('..') || rel === testFile ? null : rel;
  };
  fullAncestor(ast, (n) => {
    const node = n as AnyNode;
    if (node.type === 'ImportDeclaration') {
      const file = resolveSpec((node.source as AnyNode).value);
      if (!file) return;
      for (const s of node.specifiers as AnyNode[]) {
        const local = (s.local as AnyNode).name as string;
        if (s.type === 'ImportSpecifier') imports.set(local, { file, name: ((s.imported as AnyNode).name ?? (s.imported as AnyNode).value) as string });
        else imports.set(local, { file, name: s.type === 'ImportDefaultSpecifier' ? 'default' : '*' });
      }
    }
    if (node.type === 'VariableDeclarator') {
      const init = node.init as AnyNode | null;
      const id = node.id as AnyNode;
      if (init?.type === 'CallExpression' && (init.callee as AnyNode).type === 'Identifier' && (init.callee as AnyNode).name === 'require') {
        const file = resolveSpec(((init.arguments as AnyNode[])[0] as AnyNode | undefined)?.value);
        if (!file) return;
        if (id.type === 'Identifier') imports.set(id.name as string, { file, name: '*' });
        if (id.type === 'ObjectPattern') {
          for (const p of id.properties as AnyNode[]) {
            if (p.type === 'Property' && (p.key as AnyNode).type === 'Identifier' && (p.value as AnyNode).type === 'Identifier') imports.set((p.value as AnyNode).name as string, { file, name: (p.key as AnyNode).name as string });
          }
        }
      } else if (id.type === 'Identifier' && init) {
        const v = staticValue(init, consts);
        // A name declared twice (in two tests) is ambiguous: never used.
        consts.set(id.name as string, consts.has(id.name as string) ? NOT_STATIC : v);
      }
    }
  });
  const out: Array<{ file: string; fn: string; args: Value[]; status: 'pass' | 'fail' }> = [];
  fullAncestor(ast, (n, _s, ancestors) => {
    const node = n as AnyNode;
    if (node.type !== 'CallExpression') return;
    const callee = node.callee as AnyNode;
    let target: { file: string; name: string } | undefined;
    if (callee.type === 'Identifier') target = imports.get(callee.name as string);
    else if (callee.type === 'MemberExpression' && !callee.computed && (callee.object as AnyNode).type === 'Identifier') {
      const ns = imports.get((callee.object as AnyNode).name as string);
      if (ns && (ns.name === '*' || ns.name === 'default')) target = { file: ns.file, name: (callee.property as AnyNode).name as string };
    }
    if (!target || target.name === '*') return;
    const test = (ancestors as AnyNode[]).map(testName).filter((t): t is string => t !== null);
    const status = failingTests === 'all' || test.some((t) => failingTests.has(t)) ? 'fail' : 'pass';
    // Inside `for (const [a, b] of TABLE)` or `TABLE.forEach(([a, b]) => …)`: one call per row.
    for (const env of tableBindings(ancestors as AnyNode[], consts)) {
      const args = (node.arguments as AnyNode[]).map((a) => staticValue(a, env));
      if (!args.some((a) => a === NOT_STATIC)) out.push({ file: target.file, fn: target.name, args, status });
    }
  });
  return out;
}

/** Rows of a table a call is inside, at most this many (nested tables multiply). */
const MAX_ROWS = 40;

/**
 * The constants a call sees, once per row of every table it is inside: `for (const x of T)` /
 * `for (const [a, b] of T)` / `for (const { a } of T)` and `T.forEach((x) => …)` with T a plain value.
 * Outside tables: one environment, the file's constants.
 */
function tableBindings(ancestors: readonly AnyNode[], consts: ReadonlyMap<string, Value>): Array<ReadonlyMap<string, Value>> {
  let envs: Array<Map<string, Value>> = [new Map(consts)];
  for (let i = 0; i < ancestors.length - 1; i++) {
    const a = ancestors[i]!;
    let pattern: AnyNode | undefined;
    let table: AnyNode | undefined;
    if (a.type === 'ForOfStatement' && (a.left as AnyNode).type === 'VariableDeclaration') {
      pattern = (((a.left as AnyNode).declarations as AnyNode[])[0] as AnyNode | undefined)?.id as AnyNode | undefined;
      table = a.right as AnyNode;
    }
    const next = ancestors[i + 1]!;
    if (a.type === 'CallExpression' && (a.callee as AnyNode).type === 'MemberExpression' && ((a.callee as AnyNode).property as AnyNode).name === 'forEach' && (a.arguments as AnyNode[])[0] === next) {
      pattern = ((next.params as AnyNode[] | undefined) ?? [])[0];
      table = (a.callee as AnyNode).object as AnyNode;
    }
    if (!pattern || !table) continue;
    const grown: Array<Map<string, Value>> = [];
    for (const env of envs) {
      const rows = staticValue(table, env);
      if (!Array.isArray(rows)) return [];
      for (const row of rows) {
        const bound = bind(pattern, row, new Map(env));
        if (bound && grown.length < MAX_ROWS) grown.push(bound);
      }
    }
    envs = grown;
  }
  return envs;
}

/** Bind an identifier, array or object pattern to a value; null when the shape does not fit. */
function bind(p: AnyNode, v: Value, env: Map<string, Value>): Map<string, Value> | null {
  if (p.type === 'Identifier') return env.set(p.name as string, v);
  if (p.type === 'ArrayPattern' && Array.isArray(v)) {
    const els = p.elements as Array<AnyNode | null>;
    for (let k = 0; k < els.length; k++) if (els[k] && !bind(els[k]!, v[k], env)) return null;
    return env;
  }
  if (p.type === 'ObjectPattern' && v && typeof v === 'object') {
    for (const prop of p.properties as AnyNode[]) {
      const key = prop.key as AnyNode;
      if (prop.type !== 'Property' || prop.computed || key.type !== 'Identifier' || !bind(prop.value as AnyNode, (v as Record<string, Value>)[key.name as string], env)) return null;
    }
    return env;
  }
  return null;
}

/** The name of a `test('name', …)` / `it('name', …)` call, else null. */
function testName(n: AnyNode): string | null {
  if (n.type !== 'CallExpression') return null;
  const c = n.callee as AnyNode;
  const name = c.type === 'Identifier' ? c.name : c.type === 'MemberExpression' ? (c.object as AnyNode).name : null;
  const first = (n.arguments as AnyNode[])[0];
  if ((name !== 'test' && name !== 'it') || !first) return null;
  if (first.type === 'Literal' && typeof first.value === 'string') return first.value;
  if (first.type === 'TemplateLiteral' && (first.expressions as AnyNode[]).length === 0) return (first.quasis as AnyNode[]).map((q) => (q.value as { cooked: string }).cooked).join('');
  return null;
}

/** The value of a plain expression (literals, arrays, objects, unary minus, known constants), else NOT_STATIC. */
export function staticValue(n: AnyNode, consts: ReadonlyMap<string, Value>): Value {
  switch (n.type) {
    case 'Literal':
      return n.regex || typeof n.value === 'bigint' ? NOT_STATIC : n.value;
    case 'TemplateLiteral':
      return (n.expressions as AnyNode[]).length ? NOT_STATIC : (n.quasis as AnyNode[]).map((q) => (q.value as { cooked: string }).cooked).join('');
    case 'Identifier':
      if (n.name === 'undefined') return undefined;
      if (n.name === 'Infinity') return Infinity;
      if (n.name === 'NaN') return NaN;
      return consts.has(n.name as string) ? consts.get(n.name as string) : NOT_STATIC;
    case 'UnaryExpression': {
      const v = staticValue(n.argument as AnyNode, consts);
      if (v === NOT_STATIC) return NOT_STATIC;
      if (n.operator === '-' && typeof v === 'number') return -v;
      if (n.operator === '+' && typeof v === 'number') return v;
      if (n.operator === '!') return !v;
      return NOT_STATIC;
    }
    case 'ArrayExpression': {
      const els = (n.elements as Array<AnyNode | null>).map((e) => (e && e.type !== 'SpreadElement' ? staticValue(e, consts) : NOT_STATIC));
      return els.includes(NOT_STATIC) ? NOT_STATIC : els;
    }
    case 'ObjectExpression': {
      const o: Record<string, Value> = {};
      for (const p of n.properties as AnyNode[]) {
        const k = p.key as AnyNode | undefined;
        if (p.type !== 'Property' || p.computed || p.kind !== 'init' || p.method || !k) return NOT_STATIC;
        const v = staticValue(p.value as AnyNode, consts);
        if (v === NOT_STATIC) return NOT_STATIC;
        o[k.type === 'Identifier' ? (k.name as string) : String(k.value)] = v;
      }
      return o;
    }
    default:
      return NOT_STATIC;
  }
}

/** Argument lists one small step from `args`: one argument changed, or two adjacent ones swapped. */
export function neighbours(args: readonly Value[]): Value[][] {
  const out: Value[][] = [];
  args.forEach((a, i) => {
    for (const v of near(a)) out.push(args.map((x, j) => (j === i ? v : x)));
  });
  for (let i = 0; i + 1 < args.length; i++) {
    const [a, b] = [args[i], args[i + 1]];
    if (typeof a === typeof b && Array.isArray(a) === Array.isArray(b) && toSource(a) !== toSource(b)) out.push(args.map((x, j) => (j === i ? b : j === i + 1 ? a : x)));
  }
  return out;
}

/** Values one step from `v`. Array elements are never changed (a sorted array stays sorted): only shortened. */
function near(v: Value): Value[] {
  if (typeof v === 'number' && Number.isFinite(v)) return [v - 1, v + 1, ...(v !== 0 && Number.isInteger(v) ? [0] : [])];
  if (typeof v === 'string') return v.length ? [v.slice(0, -1), v.slice(1), v + v.slice(-1), ''] : ['a'];
  if (typeof v === 'boolean') return [!v];
  if (Array.isArray(v)) return v.length ? [v.slice(0, -1), v.slice(1), ...(v.length > 1 ? [[]] : []), [...v, v[v.length - 1]]] : [];
  if (v && typeof v === 'object') {
    const o = v as Record<string, Value>;
    return Object.keys(o).flatMap((k) => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? [{ ...o, [k]: (o[k] as number) - 1 }, { ...o, [k]: (o[k] as number) + 1 }] : []));
  }
  return [];
}

/** JavaScript source of a plain value (undefined, NaN, Infinity and -0 included). */
export function toSource(v: Value): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v);
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toSource).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as Record<string, Value>).map(([k, x]) => `${JSON.stringify(k)}: ${toSource(x)}`).join(', ')}}`;
  return 'undefined';
}
