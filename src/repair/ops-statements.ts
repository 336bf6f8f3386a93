/**
 * Statement mutations inside a block: insert a guard (`if (…) return …;`, or `continue`/`break` in a
 * loop) before a statement, insert a call that the same function already makes on an object (e.g. a
 * missing push), remove a statement, swap two adjacent statements.
 */
import { short, text, type AnyNode } from './ast.js';
import { type MutationSite } from './mutation-types.js';

const REMOVABLE = new Set(['ExpressionStatement', 'IfStatement', 'BreakStatement', 'ContinueStatement', 'ReturnStatement']);
const MAX_TERMS = 7;
const MAX_RETURNS = 5;
const LOOPS = new Set(['ForStatement', 'ForOfStatement', 'ForInStatement', 'WhileStatement', 'DoWhileStatement']);
const FNS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

function indentAt(source: string, offset: number): string {
  const begin = source.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(source.slice(begin))![0];
}

export function statementMutants(site: MutationSite): void {
  const { source, node: n, ancestors, scopes, add } = site;
  const list = n.type === 'BlockStatement' || n.type === 'Program' ? (n.body as AnyNode[]) : n.type === 'SwitchCase' ? (n.consequent as AnyNode[]) : null;
  if (!list || list.length === 0) return;
  const parent = ancestors[ancestors.length - 2];
  const inFn = ancestors.some((a) => FNS.has(a.type));
  const inLoop = (() => {
    for (let i = ancestors.length - 2; i >= 0; i--) {
      if (LOOPS.has(ancestors[i]!.type)) return true;
      if (FNS.has(ancestors[i]!.type)) return false;
    }
    return false;
  })();
  const fn = scopes.fnOf(ancestors);
  // The function's own simple return values first, then the usual "nothing here" values.
  const returns = [...new Set([...scopes.returns(fn).filter((r) => r.length <= 12).slice(0, 2), '0', 'null', '[]', '-1', "''", 'false'])].slice(0, MAX_RETURNS);
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    const st = text(source, s);
    const next = list[i + 1];
    // Removing the last statement of a function body is rarely a fix; inner ones often are.
    if (REMOVABLE.has(s.type) && !(s.type === 'ReturnStatement' && i === list.length - 1 && parent && FNS.has(parent.type))) add(s.start, s.end, '', 'remove_stmt', `remove \`${short(st)}\``);
    if (next && s.type !== 'FunctionDeclaration' && next.type !== 'FunctionDeclaration' && !(s.type === 'VariableDeclaration' && next.type === 'VariableDeclaration')) {
      add(s.start, next.end, `${text(source, next)}${source.slice(s.end, next.start)}${st}`, 'swap_stmts', `swap \`${short(st)}\` with the next statement`);
    }
    if (!inFn || s.type === 'FunctionDeclaration') continue;
    const indent = indentAt(source, s.start);
    const before = (code: string, kind: 'guard' | 'insert_call', what: string): void => add(s.start, s.start, `${code}\n${indent}`, kind, what);
    const vars = scopes.varsAt(ancestors, s.start);
    // Terms of the function, then range and null checks of its parameters (the usual missing guards).
    const params = new Set(((fn.params as AnyNode[] | undefined) ?? []).filter((p) => p.type === 'Identifier').map((p) => p.name as string));
    const checks = vars.filter((v) => params.has(v.name)).flatMap((v) => (v.kind === 'seq' ? [`${v.name}.length === 0`] : v.kind === 'num' ? [`${v.name} === 0`, `${v.name} <= 0`] : [`${v.name} == null`]));
    const terms = [...scopes.terms(fn).slice(0, MAX_TERMS - 2), ...checks].slice(0, MAX_TERMS);
    for (const term of terms) {
      if (st.startsWith(`if (${term})`)) continue;
      for (const r of returns) before(`if (${term}) return ${r};`, 'guard', `guard \`if (${short(term)}) return ${short(r)};\` before line`);
      if (inLoop) {
        before(`if (${term}) continue;`, 'guard', `guard \`if (${short(term)}) continue;\` before line`);
        before(`if (${term}) break;`, 'guard', `guard \`if (${short(term)}) break;\` before line`);
      }
    }
    const known = new Set(vars.map((v) => v.name));
    for (const c of scopes.calls(fn).slice(0, 6)) {
      if (!known.has(c.object) || c.start === s.start || (s.start >= c.start && s.end <= c.end)) continue;
      // A call inside s (a loop that pushes) may be missing after it, not before it or next to itself.
      const inside = c.start >= s.start && c.end <= s.end;
      const plain = source.slice(c.start, c.end);
      // The call as it is, and guarded by a check of what it passes (a push of a possibly empty buffer).
      for (const call of [plain, ...c.args.map((a) => `if (${a}) ${plain}`)]) {
        if (!inside) before(call, 'insert_call', `insert \`${short(call)}\` before line`);
        if (s.type !== 'ReturnStatement' && s.type !== 'BreakStatement' && s.type !== 'ContinueStatement') add(s.end, s.end, `\n${indent}${call}`, 'insert_call', `insert \`${short(call)}\` after line`, s.start);
      }
    }
  }
}
