/**
 * Routing what an agent process sends: the handshake (`ready`, `init_failed`), `log` lines and `call`s
 * for the attempt it holds, and the attempt's `result`. Every message is validated with zod first;
 * anything foreign, malformed or forged is rejected (counted, never thrown into the kernel). A log, call
 * or result is accepted only for the very request the process holds: one agent can never write another
 * task's result.
 */
import { AgentOSError, toWireError } from '../errors.js';
import type { Acb } from '../kernel-api/acb.js';
import type { AttemptOutcome } from '../kernel-api/attempt-runner.js';
import type { EventLog } from '../kernel-api/events.js';
import { asSyscallError, type SyscallTable } from '../kernel-api/syscalls.js';
import { BRAND, type KernelMessage, type TaskMessage } from '../protocol/messages.js';
import { parseAgentMessage } from '../protocol/validate.js';

/** The side of an AgentProcess that routing drives. */
export interface Routed {
  readonly acb: Acb;
  readonly events: EventLog;
  readonly syscalls: SyscallTable;
  /** The attempt this process holds now. */
  current(): TaskMessage | undefined;
  /** `ready` arrived in state `starting` from the right pid. */
  handshakeDone(): void;
  /** `init_failed` arrived during start-up. */
  initFailed(message: string): void;
  /** The held attempt's result. */
  finish(outcome: AttemptOutcome): void;
  /** Count and report a message that changes nothing. */
  reject(reason: string): void;
  send(msg: KernelMessage): void;
}

/** Handle one raw message from the child. Never throws. */
export function routeAgentMessage(p: Routed, raw: unknown): void {
  try {
    route(p, raw);
  } catch (err) {
    // Whatever a child sends must never throw into the kernel.
    p.reject(`message could not be handled: ${(err as Error).message}`);
  }
}

function route(p: Routed, raw: unknown): void {
  const parsed = parseAgentMessage(raw);
  if (!parsed.ok) return p.reject(parsed.reason);
  const m = parsed.message;
  const held = p.current();
  switch (m.type) {
    case 'ready':
      if (p.acb.state !== 'starting' || m.pid !== p.acb.pid) return p.reject(`unexpected ready (pid ${m.pid}) in state ${p.acb.state}`);
      return p.handshakeDone();
    case 'init_failed':
      if (p.acb.state !== 'starting') return p.reject('init_failed after start-up');
      return p.initFailed(m.error.message);
    case 'log':
      if (!held || m.requestId !== held.requestId) return p.reject('log for a request this process does not hold');
      p.events.emit({ type: 'task.log', task: held.taskId, agent: p.acb.agent, level: m.level, msg: m.msg, data: m.data });
      return;
    case 'call': {
      if (!held || m.requestId !== held.requestId) {
        p.reject(`call '${m.op}' outside the attempt this process holds`);
        p.send({ ag: BRAND, type: 'reply', callId: m.callId, ok: false, error: { name: 'SyscallError', message: 'no task in progress for this call', code: 'E_NO_TASK' } });
        return;
      }
      const caller = { acb: p.acb, taskId: held.taskId, attempt: held.attempt };
      p.syscalls.invoke(m.op, caller, m.args).then(
        (value) => p.send({ ag: BRAND, type: 'reply', callId: m.callId, ok: true, value }),
        // Errors of the kernel's parts reach the child as SyscallErrors with their own code.
        (err: unknown) => p.send({ ag: BRAND, type: 'reply', callId: m.callId, ok: false, error: toWireError(err instanceof AgentOSError ? asSyscallError(err) : err) }),
      );
      return;
    }
    case 'result':
      // Only the answer to the very request this process holds is accepted: a result for any other
      // task or attempt is a forgery (or a stale reply) and changes nothing.
      if (!held || m.requestId !== held.requestId || m.taskId !== held.taskId) {
        return p.reject(`result for ${m.taskId}/${m.requestId}, which this process does not hold`);
      }
      p.finish(m.ok ? { ok: true, output: m.output } : { ok: false, kind: m.kind, message: m.error.message, stack: m.error.stack });
      return;
  }
}
