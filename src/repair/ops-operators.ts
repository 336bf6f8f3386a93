/**
 * Operator mutations: every binary operator within its family (relational with its boundaries,
 * equality, arithmetic, bitwise, logical), compound assignments, unary and update operators, operand
 * swaps of non-commutative operators (string `+` included), argument swaps in calls, method names
 * swapped within a family that takes the same arguments, integer constants ±1, booleans flipped and
 * conditions negated.
 */
import { operatorAt, short, text, type AnyNode } from './ast.js';
import { type MutationSite } from './mutation-types.js';

const REL: Record<string, string[]> = { '<': ['<=', '>', '>='], '<=': ['<', '>=', '>'], '>': ['>=', '<', '<='], '>=': ['>', '<=', '<'] };
const EQ: Record<string, string[]> = { '===': ['!==', '<=', '>='], '!==': ['===', '<', '>'], '==': ['!=', '==='], '!=': ['==', '!=='] };
const ARITH: Record<string, string[]> = { '+': ['-', '*'], '-': ['+', '*'], '*': ['/', '+', '-', '**'], '/': ['*', '%', '-'], '%': ['/', '*', '-'], '**': ['*'] };
const BITWISE: Record<string, string[]> = { '&': ['|', '^', '&&'], '|': ['&', '^', '||'], '^': ['&', '|'], '<<': ['>>', '>>>'], '>>': ['<<', '>>>'], '>>>': ['>>', '<<'] };
const LOGIC: Record<string, string[]> = { '&&': ['||'], '||': ['&&', '??'], '??': ['||', '&&'] };
const ASSIGN: Record<string, string[]> = {
  '=': ['+=', '-='], '+=': ['-=', '=', '*='], '-=': ['+=', '='], '*=': ['/=', '+=', '='], '/=': ['*=', '%=', '='], '%=': ['/=', '='], '**=': ['*='],
  '<<=': ['>>='], '>>=': ['<<=', '>>>='], '>>>=': ['>>='], '&=': ['|='], '|=': ['&=', '^='], '^=': ['|='], '&&=': ['||='], '||=': ['&&=', '??='], '??=': ['||='],
};
const NON_COMMUTATIVE = new Set(['-', '/', '%', '**', '<', '<=', '>', '>=', '<<', '>>', '>>>', '+', 'in', 'instanceof']);
/** Methods that take the same arguments, so one may be written for the other. */
const METHOD_FAMILIES: string[][] = [
  ['indexOf', 'lastIndexOf', 'includes'], ['slice', 'substring', 'substr'], ['push', 'unshift'], ['pop', 'shift'],
  ['map', 'forEach', 'filter', 'flatMap'], ['some', 'every'], ['find', 'findLast', 'filter'], ['findIndex', 'findLastIndex', 'indexOf'],
  ['reduce', 'reduceRight'], ['toUpperCase', 'toLowerCase'], ['trim', 'trimStart', 'trimEnd'], ['startsWith', 'endsWith', 'includes'],
  ['padStart', 'padEnd'], ['floor', 'ceil', 'round', 'trunc'], ['max', 'min'], ['keys', 'values', 'entries'], ['replace', 'replaceAll'],
  ['charAt', 'at'], ['sort', 'toSorted'], ['reverse', 'toReversed'], ['add', 'delete'], ['has', 'get'], ['concat', 'push'],
];

export function operatorMutants(site: MutationSite): void {
  const { source, node: n, add } = site;
  switch (n.type) {
    case 'BinaryExpression':
    case 'LogicalExpression': {
      const left = n.left as AnyNode;
      const right = n.right as AnyNode;
      const op = n.operator as string;
      const at = operatorAt(source, left.end, right.start, op);
      if (at < 0) break;
      const expr = short(text(source, n));
      const [table, kind] = n.type === 'LogicalExpression' ? [LOGIC, 'logical' as const] : REL[op] ? [REL, 'relational' as const] : EQ[op] ? [EQ, 'equality' as const] : BITWISE[op] ? [BITWISE, 'bitwise' as const] : [ARITH, 'arithmetic' as const];
      for (const to of table[op] ?? []) add(at, at + op.length, to, kind, `\`${op}\` -> \`${to}\` in \`${expr}\``);
      if (NON_COMMUTATIVE.has(op)) {
        add(n.start, n.end, `${text(source, right)} ${op} ${text(source, left)}`, 'swap_operands', `swap operands of \`${expr}\``);
      }
      break;
    }
    case 'Literal': {
      const raw = text(source, n);
      if (typeof n.value === 'number' && Number.isInteger(n.value) && /^\d+$/.test(raw)) {
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
      const name = text(source, arg);
      add(n.start, n.end, n.prefix ? `${to}${name}` : `${name}${to}`, 'update', `\`${op}\` -> \`${to}\``);
      add(n.start, n.end, n.prefix ? `${name}${op}` : `${op}${name}`, 'update', `\`${text(source, n)}\` -> ${n.prefix ? 'postfix' : 'prefix'}`);
      break;
    }
    case 'AssignmentExpression': {
      const op = n.operator as string;
      const at = operatorAt(source, (n.left as AnyNode).end, (n.right as AnyNode).start, op);
      if (at >= 0) for (const to of ASSIGN[op] ?? []) add(at, at + op.length, to, 'assignment', `\`${op}\` -> \`${to}\` in \`${short(text(source, n))}\``);
      break;
    }
    case 'UnaryExpression': {
      const arg = n.argument as AnyNode;
      const a = text(source, arg);
      if (n.operator === '!') add(n.start, n.end, a, 'negate', `drop negation of \`${short(a)}\``);
      else if (n.operator === '-') add(n.start, n.end, a, 'unary', `drop the minus of \`${short(a)}\``);
      else if (n.operator === '~') add(n.start, n.end, `-${a}`, 'unary', `\`~\` -> \`-\``);
      break;
    }
    case 'IfStatement':
    case 'WhileStatement':
    case 'DoWhileStatement':
    case 'ForStatement':
    case 'ConditionalExpression': {
      const test = n.test as AnyNode | null;
      if (!test) break;
      const t = text(source, test);
      add(test.start, test.end, `!(${t})`, 'negate', `negate condition \`${short(t)}\``);
      break;
    }
    case 'CallExpression':
    case 'NewExpression': {
      const args = n.arguments as AnyNode[];
      for (let i = 0; i + 1 < args.length; i++) {
        const a = args[i]!;
        const b = args[i + 1]!;
        if (a.type === 'SpreadElement' || b.type === 'SpreadElement') continue;
        add(a.start, b.end, `${text(source, b)}${source.slice(a.end, b.start)}${text(source, a)}`, 'swap_args', `swap arguments \`${short(text(source, a))}\` and \`${short(text(source, b))}\``);
      }
      const callee = n.callee as AnyNode;
      if (callee.type === 'MemberExpression' && !callee.computed) {
        const prop = callee.property as AnyNode;
        const name = prop.name as string;
        for (const fam of METHOD_FAMILIES) {
          if (!fam.includes(name)) continue;
          for (const to of fam) if (to !== name) add(prop.start, prop.end, to, 'method', `\`.${name}(\` -> \`.${to}(\``);
        }
      }
      break;
    }
    default:
      break;
  }
}
