/**
 * The syscall table: operations an agent may ask of the kernel through `call` messages (ctx.* in the
 * handler). Each part of the kernel registers its own ops; the table parses every call's arguments
 * against the op's schema (syscall-args.ts) before the handler runs; unknown ops are answered with an
 * error, never a crash. A syscall is only accepted from a process for the attempt it is running right
 * now, and the caller is identified by the kernel (agent, instance, pid, task), never by what the child
 * claims.
 */
import type { Acb } from './acb.js';
import { parseSyscallArgs, type SyscallArgs } from './syscall-args.js';
import { SyscallError } from './syscall-error.js';
import { SYSCALL_OPS, type SyscallOp } from './syscall-ops.js';

export { SyscallError, asSyscallError } from './syscall-error.js';
export type { SyscallOp } from './syscall-ops.js';
export type { SyscallArgs } from './syscall-args.js';

export interface SyscallCaller {
  /** The caller's ACB (agent, instance, pid, state...). */
  acb: Acb;
  /** The task the process is running for this call. */
  taskId: string;
  attempt: number;
}

export type SyscallHandler<O extends SyscallOp = SyscallOp> = (caller: SyscallCaller, args: SyscallArgs<O>) => unknown | Promise<unknown>;

export class SyscallTable {
  private readonly ops = new Map<string, SyscallHandler<SyscallOp>>();

  /** Register the handler of one op. Throws AgentOSError E_INTERNAL when the op is registered twice. */
  register<O extends SyscallOp>(op: O, handler: SyscallHandler<O>): void {
    if (this.ops.has(op)) throw new SyscallError('E_INTERNAL', `syscall '${op}' registered twice`);
    this.ops.set(op, handler as SyscallHandler<SyscallOp>);
  }

  has(op: string): boolean {
    return this.ops.has(op);
  }

  /** Run a syscall; rejects with SyscallError (E_UNKNOWN_SYSCALL, E_SCHEMA, or the handler's code). */
  async invoke(op: string, caller: SyscallCaller, args: unknown): Promise<unknown> {
    const handler = this.ops.get(op);
    if (!handler || !Object.hasOwn(SYSCALL_OPS, op)) throw new SyscallError('E_UNKNOWN_SYSCALL', `unknown syscall '${op}'`);
    return handler(caller, parseSyscallArgs(op as SyscallOp, args));
  }
}
