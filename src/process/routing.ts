/**
 * Routing what an agent process sends on its channel: the handshake (`ready`, `init_failed`), `log`
 * lines and `call`s for the attempt it holds, and the attempt's `result`. Every message is validated
 * with zod first. The rules are docs/protocol.md "Violations": anything unknown, malformed or forged is
 * a violation (the process is ended, its attempt fails as `protocol`), except a `result` for the held
 * request that the schema refuses, which fails that attempt at once as `invalid_output` (the handler's
 * output or error could not be carried; the process is healthy). Never throws into the kernel.
 */
import { AgentOSError, toWireError } from '../errors.js';
import type { Acb } from '../kernel-api/acb.js';
import type { AttemptOutcome } from '../kernel-api/attempt-runner.js';
import type { EventLog } from '../kernel-api/events.js';
import { asSyscallError, type SyscallTable } from '../kernel-api/syscalls.js';
import { PROTOCOL_VERSION } from '../protocol/frames.js';
import { BRAND, type KernelMessage, type TaskMessage } from '../protocol/messages.js';
import { parseAgentMessage } from '../protocol/validate.js';

/** The side of an AgentProcess that routing drives. */
export interface Routed {
  readonly acb: Acb;
  readonly events: EventLog;
  readonly syscalls: SyscallTable;
  /** The attempt this process holds now. */
  current(): TaskMessage | undefined;
  /** True when `pid` (as the agent announced it in `ready`) is this process's agent. */
  ownPid(pid: number): boolean;
  /** `ready` arrived in state `starting` from the right pid, speaking our protocol version. */
  handshakeDone(runtime: string | undefined): void;
  /** `init_failed` arrived during start-up (or a `ready` in a protocol version we do not speak). */
  initFailed(message: string): void;
  /** The held attempt's result. */
  finish(outcome: AttemptOutcome): void;
  /** The process broke the protocol: end it, fail its attempt as `protocol` with `reason`. */
  violation(reason: string): void;
  send(msg: KernelMessage): void;
  /** A `call` is being answered / was answered (the process bounds how many are in flight). */
  callStarted(): void;
  callSettled(): void;
}

/** Handle one message from the child. Never throws. */
export function routeAgentMessage(p: Routed, raw: Record<string, unknown>): void {
  try {
    route(p, raw);
  } catch (err) {
    // Whatever a child sends must never throw into the kernel.
    p.violation(`message could not be handled: ${(err as Error).message}`);
  }
}

function route(p: Routed, raw: Record<string, unknown>): void {
  const held = p.current();
  const parsed = parseAgentMessage(raw);
  if (!parsed.ok) {
    if (raw.type === 'result' && held && raw.requestId === held.requestId) {
      // The handler finished but its result cannot be accepted: fail the attempt now, not at the timeout.
      return p.finish({ ok: false, kind: 'invalid_output', message: `result refused by the kernel: ${parsed.reason}` });
    }
    return p.violation(parsed.reason);
  }
  const m = parsed.message;
  switch (m.type) {
    case 'ready': {
      if (p.acb.state !== 'starting' || !p.ownPid(m.pid)) return p.violation(`unexpected ready (pid ${m.pid}) in state ${p.acb.state}`);
      const version = (m as { protocol?: unknown }).protocol;
      if (version !== PROTOCOL_VERSION) {
        return p.initFailed(`the agent speaks protocol version ${version === undefined ? '(none announced)' : JSON.stringify(version)}, this kernel speaks ${PROTOCOL_VERSION} (docs/protocol.md). Fix: use the SDK of this AgentOS version.`);
      }
      return p.handshakeDone((m as { runtime?: string }).runtime);
    }
    case 'init_failed':
      if (p.acb.state !== 'starting') return p.violation('init_failed after start-up');
      return p.initFailed(m.error.message);
    case 'log':
      if (!held || m.requestId !== held.requestId) return p.violation('log for a request this process does not hold');
      p.events.emit({ type: 'task.log', task: held.taskId, agent: p.acb.agent, level: m.level, msg: m.msg, data: m.data });
      return;
    case 'call': {
      if (!held || m.requestId !== held.requestId) return p.violation(`call '${m.op}' for a request this process does not hold`);
      const caller = { acb: p.acb, taskId: held.taskId, attempt: held.attempt };
      p.callStarted();
      p.syscalls.invoke(m.op, caller, m.args).then(
        (value) => {
          p.callSettled();
          p.send({ ag: BRAND, type: 'reply', callId: m.callId, ok: true, value });
        },
        // Errors of the kernel's parts reach the child as SyscallErrors with their own code.
        (err: unknown) => {
          p.callSettled();
          p.send({ ag: BRAND, type: 'reply', callId: m.callId, ok: false, error: toWireError(err instanceof AgentOSError ? asSyscallError(err) : err) });
        },
      );
      return;
    }
    case 'result':
      // Only the answer to the very request this process holds is accepted: a result for any other
      // task or attempt is a forgery (or a second answer) and ends the process.
      if (!held || m.requestId !== held.requestId || m.taskId !== held.taskId) {
        return p.violation(`result for ${m.taskId}/${m.requestId}, which this process does not hold`);
      }
      p.finish(m.ok ? { ok: true, output: m.output } : { ok: false, kind: m.kind, message: m.error.message, stack: m.error.stack });
      return;
  }
}
