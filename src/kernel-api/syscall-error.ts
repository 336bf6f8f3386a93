/** The error a syscall answers with; it reaches the child as `{name, message, stack, code}`. */
import { AgentOSError, type ErrorCode } from '../errors.js';

export class SyscallError extends AgentOSError {
  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'SyscallError';
  }
}

/** Any error from a kernel part as a SyscallError with the same code (other errors: E_INTERNAL). */
export function asSyscallError(err: unknown): SyscallError {
  if (err instanceof SyscallError) return err;
  if (err instanceof AgentOSError) return new SyscallError(err.code, err.message, { cause: err });
  return new SyscallError('E_INTERNAL', (err as Error)?.message ?? String(err), { cause: err });
}
