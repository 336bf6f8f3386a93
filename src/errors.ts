/**
 * The one error family of AgentOS. Every error the code throws on purpose is an `AgentOSError` (or a
 * subclass named after the part that throws it) carrying a stable `code` from `ERROR_CODES`: tests and
 * callers match on the code; messages are for people and may change. Across a process boundary an error
 * travels as `{name, message, stack, code}` (`toWireError`) and is rebuilt with `fromWireError`.
 *
 * A leaf module: no imports, so the child side (worker/) may use it without start-up cost.
 */

/** Every stable error code, by the part that raises it. Add a code here, never inline elsewhere. */
export const ERROR_CODES = [
  // input: files and flags (the CLI exits 2)
  'E_YAML_SYNTAX',
  'E_SCHEMA',
  'E_UNKNOWN_AGENT',
  'E_UNKNOWN_DEPENDENCY',
  'E_DUPLICATE_TASK',
  'E_DUPLICATE_AGENT',
  'E_CYCLE',
  'E_MISSING_HANDLER',
  'E_FILE_NOT_FOUND',
  'E_USAGE',
  'E_TOO_LARGE',
  'E_YAML_LIMIT',
  /** A TypeScript handler (or a file it imports) does not parse. */
  'E_HANDLER_SYNTAX',
  /** `agentos ps`: the runtime directory is not the user's own, mode 0700. */
  'E_RUNTIME_DIR',
  // processes
  'E_SPAWN',
  'E_CIRCUIT_OPEN',
  'E_SHUTTING_DOWN',
  // syscalls
  'E_UNKNOWN_SYSCALL',
  'E_NO_TASK',
  'E_UNKNOWN_TASK',
  'E_PERMISSION',
  // bus
  'E_NO_RECIPIENT',
  'E_MAILBOX_FULL',
  'E_DEAD_LETTER',
  // context memory
  'E_MEMORY_FULL',
  'E_NO_KEY',
  // KV-cache page store
  'E_KV_CONFIG',
  'E_KV_FULL',
  'E_KV_NO_SEQ',
  'E_KV_RANGE',
  'E_KV_TOKEN',
  // model adapter
  'E_NO_LLM',
  'E_LLM_CONFIG',
  'E_LLM_TIMEOUT',
  'E_LLM_UNREACHABLE',
  'E_LLM_HTTP',
  'E_LLM_PROTOCOL',
  // containment: a cgroup could not be created, joined, limited or removed
  'E_CONTAINMENT',
  // the run journal (docs/durability.md): unreadable or inconsistent before its torn tail; cannot be written;
  // the run directory locked by a live kernel
  'E_JOURNAL_CORRUPT',
  'E_JOURNAL_IO',
  'E_RUN_LOCKED',
  /** agentos resume: the plan or an agent's files changed since the run started (content hash). */
  'E_RUN_CHANGED',
  /** agentos resume: every task is final for its own reasons; nothing to resume. */
  'E_RUN_COMPLETE',
  // cluster mode (docs/cluster.md): Redis unreachable, refused or holding a bad record; a run's coordinator
  // lease held by a live coordinator; a lease lost to a newer coordinator (fenced)
  'E_CLUSTER',
  'E_LEASE_HELD',
  'E_LEASE_LOST',
  // anything else: a bug in AgentOS
  'E_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && CODES.has(code);
}

export interface ErrorOptions {
  /** The file the problem is in, when there is one. */
  file?: string;
  cause?: unknown;
}

export class AgentOSError extends Error {
  readonly code: ErrorCode;
  /** The file the problem is in, when there is one. */
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentOSError';
    this.code = code;
    this.file = options.file;
  }
}

/** Bad input from the user (files, flags): the CLI exits 2 before anything starts. */
export class InputError extends AgentOSError {
  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
    this.name = 'InputError';
  }
}

export function isInputError(err: unknown): err is InputError {
  return err instanceof InputError;
}

/** An error as it crosses a process boundary: plain data, rebuilt on the other side. */
export interface WireError {
  name: string;
  message: string;
  stack?: string | undefined;
  code?: string | undefined;
}

/** Any thrown value as plain data (`code` only when it is a string). */
export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, stack: err.stack, code: typeof code === 'string' ? code : undefined };
  }
  return { name: 'NonError', message: String(err) };
}

/**
 * Rebuild an error received from another process. A code outside `ERROR_CODES` (a child may send
 * anything) becomes `E_INTERNAL` with the foreign code kept in the message; the name is kept as sent.
 */
export function fromWireError(w: WireError): AgentOSError {
  const code = isErrorCode(w.code) ? w.code : 'E_INTERNAL';
  const e = new AgentOSError(code, code === w.code || w.code === undefined ? w.message : `${w.message} (code ${w.code})`);
  e.name = w.name;
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}

/** The code of any thrown value: its own when it is one of ours, else E_INTERNAL. */
export function errorCode(err: unknown): ErrorCode {
  const code = (err as { code?: unknown } | null)?.code;
  return isErrorCode(code) ? code : 'E_INTERNAL';
}
