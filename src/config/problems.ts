/**
 * Input problems collected rather than thrown one by one: a plan or agent.yaml with five mistakes is
 * reported with all five in one go, each at its own `file:line:col`, as tsc does.
 */
import { type ErrorCode, InputError } from '../errors.js';

/** One problem in the input; `message` already says the field, the value received and the fix. */
export interface Problem {
  code: ErrorCode;
  /** The file it is in (absent for plans built in code). */
  file?: string | undefined;
  /** 1-based line and column, when the document has a position for it. */
  line?: number | undefined;
  col?: number | undefined;
  message: string;
}

/** At most this many problems are printed; the rest are counted ("… and N more"). */
export const MAX_PRINTED_PROBLEMS = 50;

/** `file:line:col: message` (the parts that are known). */
export function formatProblem(p: Problem): string {
  const where = p.file === undefined ? '' : p.line === undefined ? p.file : p.col === undefined ? `${p.file}:${p.line}` : `${p.file}:${p.line}:${p.col}`;
  return where ? `${where}: ${p.message}` : p.message;
}

/**
 * Several input problems as one InputError (the CLI exits 2 and prints its message). `code` is the
 * first problem's; every problem keeps its own in `problems`.
 */
export class InputProblems extends InputError {
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[]) {
    const first = problems[0];
    if (!first) throw new Error('InputProblems needs at least one problem');
    super(first.code, renderProblems(problems), { file: first.file });
    this.name = 'InputError';
    this.problems = problems;
  }
}

function renderProblems(problems: readonly Problem[]): string {
  const lines = problems.slice(0, MAX_PRINTED_PROBLEMS).map(formatProblem);
  if (problems.length > MAX_PRINTED_PROBLEMS) lines.push(`… and ${problems.length - MAX_PRINTED_PROBLEMS} more problems`);
  if (problems.length > 1) {
    const files = [...new Set(problems.map((p) => p.file).filter((f) => f !== undefined))];
    lines.push(`${problems.length} problems${files.length > 0 ? ` in ${files.length} file${files.length > 1 ? 's' : ''}` : ''}; nothing was started.`);
  }
  return lines.join('\n');
}

/** Problems found so far; `throwIfAny()` ends a validation phase. */
export class ProblemList {
  readonly items: Problem[] = [];

  add(p: Problem): void {
    this.items.push(p);
  }

  /** Add the problems of an error thrown by a loader (InputProblems or a single InputError). */
  addError(err: unknown): void {
    if (err instanceof InputProblems) this.items.push(...err.problems);
    else if (err instanceof InputError) this.items.push({ code: err.code, message: err.message });
    else throw err;
  }

  get size(): number {
    return this.items.length;
  }

  throwIfAny(): void {
    if (this.items.length > 0) throw new InputProblems(this.items);
  }
}
