/**
 * The few error classes of AgentOS. Each carries a stable `code` that tests and callers match on;
 * messages are for people and may change.
 */
export type ErrorCode =
  | 'E_YAML_SYNTAX'
  | 'E_SCHEMA'
  | 'E_UNKNOWN_AGENT'
  | 'E_UNKNOWN_DEPENDENCY'
  | 'E_DUPLICATE_TASK'
  | 'E_DUPLICATE_AGENT'
  | 'E_CYCLE'
  | 'E_MISSING_HANDLER'
  /** A TypeScript handler (or a file it imports) does not parse. */
  | 'E_HANDLER_SYNTAX'
  | 'E_FILE_NOT_FOUND'
  | 'E_TOO_LARGE'
  | 'E_YAML_LIMIT'
  | 'E_USAGE'
  | 'E_SPAWN'
  /** A cgroup could not be created, joined, limited or removed (process containment). */
  | 'E_CONTAINMENT'
  | 'E_RUNTIME_DIR'
  // The run journal (docs/durability.md): unreadable or inconsistent before its torn tail; cannot be written.
  | 'E_JOURNAL_CORRUPT'
  | 'E_JOURNAL_IO'
  // The run directory is locked by a live kernel.
  | 'E_RUN_LOCKED'
  // Cluster mode (docs/cluster.md): Redis unreachable, refused or holding a bad record; a run's
  // coordinator lease held by a live coordinator; a lease lost to a newer coordinator (fenced).
  | 'E_CLUSTER'
  | 'E_LEASE_HELD'
  | 'E_LEASE_LOST'
  | 'E_INTERNAL';

export class AgentOSError extends Error {
  readonly code: ErrorCode;
  /** The file the problem is in, when there is one. */
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentOSError';
    this.code = code;
    this.file = options.file;
  }
}

/** Bad input from the user (files, flags): the CLI exits 2 before anything starts. */
export class InputError extends AgentOSError {
  constructor(code: ErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'InputError';
  }
}

export function isInputError(err: unknown): err is InputError {
  return err instanceof InputError;
}
