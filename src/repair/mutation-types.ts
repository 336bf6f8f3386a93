/** The vocabulary of the mutation search: kinds, mutants and what a mutation family is handed. */
import type { AnyNode } from './ast.js';
import type { Scopes } from './scope.js';

export type MutationKind =
  | 'relational' | 'equality' | 'arithmetic' | 'bitwise' | 'logical' | 'assignment' | 'unary' | 'update'
  | 'swap_operands' | 'swap_args' | 'method' | 'off_by_one' | 'boolean' | 'negate'
  | 'variable' | 'plus_minus_one' | 'literal_to_var' | 'clamp' | 'widen' | 'narrow' | 'square' | 'negate_expr'
  | 'guard' | 'insert_call' | 'remove_stmt' | 'swap_stmts' | 'pair' | 'model';

export interface Mutant {
  /** Stable within one file and source: `<file>:<start>:<kind>:<replacement>`. */
  id: string;
  /** Path relative to the repository root, with / separators. */
  file: string;
  line: number;
  /** Byte offsets of the replaced region (a two-edit candidate replaces the region spanning both). */
  start: number;
  end: number;
  original: string;
  replacement: string;
  kind: MutationKind;
  description: string;
  /** Characters changed (the smaller of removed/inserted, at least 1): smaller edits are preferred. */
  size: number;
}

/** What an operator family gets: the source, the node with its ancestors, and a way to add a mutant. */
export interface MutationSite {
  source: string;
  node: AnyNode;
  ancestors: AnyNode[];
  scopes: Scopes;
  /** `anchor`: the offset whose line the mutant is ranked by (default: `start`). */
  add: (start: number, end: number, replacement: string, kind: MutationKind, what: string, anchor?: number) => void;
}

