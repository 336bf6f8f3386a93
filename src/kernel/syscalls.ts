/**
 * The syscall table: operations an agent may ask of the kernel through `call` messages (ctx.* in the
 * handler). Each part of the kernel registers its own ops; unknown ops are answered with an error, never
 * a crash. A syscall is only accepted from a process for the attempt it is running right now, and the
 * caller is identified by the kernel (agent, instance, pid, task), never by what the child claims.
 */
import type { Acb } from './acb.js';

export interface SyscallCaller {
  /** The caller's ACB (agent, instance, pid, state...). */
  acb: Acb;
  /** The task the process is running for this call. */
  taskId: string;
  attempt: number;
}

export type SyscallHandler = (caller: SyscallCaller, args: unknown) => unknown | Promise<unknown>;

export class SyscallError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'SyscallError';
    this.code = code;
  }
}

export class SyscallTable {
  private readonly ops = new Map<string, SyscallHandler>();

  register(op: string, handler: SyscallHandler): void {
    if (this.ops.has(op)) throw new Error(`syscall '${op}' registered twice`);
    this.ops.set(op, handler);
  }

  has(op: string): boolean {
    return this.ops.has(op);
  }

  /** Run a syscall; rejects with SyscallError for unknown ops. */
  async invoke(op: string, caller: SyscallCaller, args: unknown): Promise<unknown> {
    const handler = this.ops.get(op);
    if (!handler) throw new SyscallError('E_UNKNOWN_SYSCALL', `unknown syscall '${op}'`);
    return handler(caller, args);
  }
}
