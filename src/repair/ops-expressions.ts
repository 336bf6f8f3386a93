/**
 * Expression mutations: a variable replaced by another in scope of the same kind; ±1 on numeric
 * expressions and indices (not only literals); a number literal replaced by a variable or a length in
 * scope; a value clamped with Math.max/Math.min (at 0, a variable, a length or a literal of the
 * function); a condition widened (`||`) or narrowed (`&&`) with a
 * term the function already uses; a numeric value squared or negated.
 */
import { short, text, type AnyNode } from './ast.js';
import { type MutationSite } from './mutation-types.js';
import type { ScopeVar } from './scope.js';

const ARITH = new Set(['-', '*', '/', '%', '**']);
const MAX_VARS = 6;
const MAX_TERMS = 8;

/** Whether an Identifier is read or written as a variable here (not a key, declaration, callee or label). */
function isVariableUse(n: AnyNode, parent: AnyNode | undefined): boolean {
  if (!parent) return false;
  switch (parent.type) {
    case 'MemberExpression':
      return parent.object === n || parent.computed === true;
    case 'Property':
      return parent.value === n && parent.shorthand !== true;
    case 'VariableDeclarator':
      return parent.init === n;
    case 'CallExpression':
    case 'NewExpression':
      return parent.callee !== n;
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      return parent.body === n;
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
    case 'ImportSpecifier':
    case 'ImportDefaultSpecifier':
    case 'ImportNamespaceSpecifier':
    case 'ExportSpecifier':
    case 'MethodDefinition':
    case 'PropertyDefinition':
    case 'ClassDeclaration':
    case 'ClassExpression':
    case 'CatchClause':
    case 'AssignmentPattern':
    case 'ArrayPattern':
    case 'ObjectPattern':
    case 'RestElement':
      return false;
    default:
      return true;
  }
}

/** Whether a node is (very likely) a number: a numeric variable, a length, arithmetic or a Math call. */
function isNumeric(site: MutationSite, n: AnyNode): boolean {
  if (n.type === 'Identifier') return site.scopes.kindOf(site.ancestors, n.name as string) === 'num';
  if (n.type === 'Literal') return typeof n.value === 'number';
  if (n.type === 'MemberExpression') return !n.computed && (n.property as AnyNode).name === 'length';
  if (n.type === 'BinaryExpression') return ARITH.has(n.operator as string) || (n.operator === '+' && (isNumeric(site, n.left as AnyNode) || isNumeric(site, n.right as AnyNode)) && (n.left as AnyNode).type !== 'TemplateLiteral');
  if (n.type === 'CallExpression') return ((n.callee as AnyNode).object as AnyNode | undefined)?.name === 'Math';
  return false;
}

/** A place where a value is used as a whole (so wrapping it needs no parentheses around it). */
function isValueSlot(n: AnyNode, parent: AnyNode | undefined): boolean {
  if (!parent) return false;
  return (parent.type === 'ReturnStatement' && parent.argument === n) || (parent.type === 'VariableDeclarator' && parent.init === n) || (parent.type === 'AssignmentExpression' && parent.right === n) || ((parent.type === 'CallExpression' || parent.type === 'NewExpression') && (parent.arguments as AnyNode[]).includes(n)) || (parent.type === 'MemberExpression' && parent.computed === true && parent.property === n) || parent.type === 'ArrayExpression';
}

const paren = (n: AnyNode, t: string): string => (n.type === 'Identifier' || n.type === 'Literal' || n.type === 'MemberExpression' || n.type === 'CallExpression' ? t : `(${t})`);

function nearest(vars: ScopeVar[], kind: ScopeVar['kind'], except: string): ScopeVar[] {
  return vars.filter((v) => v.kind === kind && v.name !== except).sort((a, b) => b.declared - a.declared).slice(0, MAX_VARS);
}

export function expressionMutants(site: MutationSite): void {
  const { source, node: n, ancestors, scopes, add } = site;
  const parent = ancestors[ancestors.length - 2];
  const vars = (): ScopeVar[] => scopes.varsAt(ancestors, n.start);
  const t = text(source, n);
  // A variable replaced by another of the same kind.
  if (n.type === 'Identifier' && isVariableUse(n, parent)) {
    const kind = scopes.kindOf(ancestors, n.name as string);
    if (kind && kind !== 'other') for (const v of nearest(vars(), kind, n.name as string)) add(n.start, n.end, v.name, 'variable', `variable \`${t}\` -> \`${v.name}\``);
  }
  const numeric = isNumeric(site, n);
  const isWriteTarget = parent && ((parent.type === 'AssignmentExpression' && parent.left === n) || parent.type === 'UpdateExpression');
  const index = parent?.type === 'MemberExpression' && parent.computed === true && parent.property === n;
  // ±1 on a numeric expression or any index (literals have their own off-by-one).
  if ((numeric || index) && n.type !== 'Literal' && !isWriteTarget) {
    const slot = isValueSlot(n, parent);
    for (const d of ['+ 1', '- 1']) add(n.start, n.end, slot ? `${t} ${d}` : `(${t} ${d})`, 'plus_minus_one', `\`${short(t)}\` -> \`${short(t)} ${d}\``);
  }
  // A literal replaced by a variable or a length in scope.
  if (n.type === 'Literal' && typeof n.value === 'number' && !(parent?.type === 'Property' && parent.key === n)) {
    const vs = vars();
    // Numbers, and parameters of no known kind (a parameter the code never uses is a strong hint).
    const params = new Set((((scopes.fnOf(ancestors).params as AnyNode[] | undefined) ?? []).filter((p) => p.type === 'Identifier').map((p) => p.name as string)));
    for (const v of [...nearest(vs, 'num', ''), ...vs.filter((x) => x.kind === 'other' && params.has(x.name)).slice(0, 3)]) add(n.start, n.end, v.name, 'literal_to_var', `constant ${t} -> \`${v.name}\``);
    for (const v of nearest(vs, 'seq', '').slice(0, 3)) add(n.start, n.end, `${v.name}.length`, 'literal_to_var', `constant ${t} -> \`${v.name}.length\``);
  }
  // Clamp, square, negate: numeric values used whole.
  if (numeric && n.type !== 'Literal' && !isWriteTarget && isValueSlot(n, parent)) {
    const vs = vars();
    const literals = scopes.literals(scopes.fnOf(ancestors)).filter((l) => l !== '0').slice(0, 3);
    const bounds = [...nearest(vs, 'num', n.type === 'Identifier' ? (n.name as string) : '').map((v) => v.name), ...nearest(vs, 'seq', '').slice(0, 3).flatMap((v) => [`${v.name}.length`, `${v.name}.length - 1`]), ...literals];
    add(n.start, n.end, `Math.max(0, ${t})`, 'clamp', `clamp \`${short(t)}\` at 0`);
    for (const b of bounds.slice(0, MAX_VARS + 3)) {
      if (b === t) continue;
      add(n.start, n.end, `Math.min(${t}, ${b})`, 'clamp', `\`${short(t)}\` -> \`Math.min(…, ${b})\``);
      add(n.start, n.end, `Math.max(${t}, ${b})`, 'clamp', `\`${short(t)}\` -> \`Math.max(…, ${b})\``);
    }
    add(n.start, n.end, `-${paren(n, t)}`, 'negate_expr', `negate \`${short(t)}\``);
    add(n.start, n.end, `${paren(n, t)} * ${paren(n, t)}`, 'square', `square \`${short(t)}\``);
  }
  // Conditions widened or narrowed with a term from the same function.
  const test = condition(n, parent);
  if (test) {
    const c = text(source, test);
    const wrapped = test.type === 'LogicalExpression' || test.type === 'ConditionalExpression' || test.type === 'AssignmentExpression' ? `(${c})` : c;
    const terms = scopes.terms(scopes.fnOf(ancestors)).filter((term) => !c.includes(term) && !term.includes(c)).slice(0, MAX_TERMS);
    for (const term of terms) {
      add(test.start, test.end, `${wrapped} && ${term}`, 'narrow', `narrow \`${short(c)}\` with \`&& ${short(term)}\``);
      add(test.start, test.end, `${wrapped} && !(${term})`, 'narrow', `narrow \`${short(c)}\` with \`&& !(${short(term)})\``);
      add(test.start, test.end, `${wrapped} || ${term}`, 'widen', `widen \`${short(c)}\` with \`|| ${short(term)}\``);
      add(test.start, test.end, `${wrapped} || !(${term})`, 'widen', `widen \`${short(c)}\` with \`|| !(${short(term)})\``);
    }
  }
}

/** The condition of a branch or loop, or a returned comparison. */
function condition(n: AnyNode, parent: AnyNode | undefined): AnyNode | null {
  if (['IfStatement', 'WhileStatement', 'DoWhileStatement', 'ForStatement', 'ConditionalExpression'].includes(n.type)) return (n.test as AnyNode | null) ?? null;
  if (n.type === 'ReturnStatement' && n.argument) {
    const a = n.argument as AnyNode;
    if ((a.type === 'BinaryExpression' && /^[<>=!]/.test(a.operator as string)) || a.type === 'LogicalExpression') return a;
  }
  void parent;
  return null;
}
