/**
 * The bus's syscalls (ctx.send / receive / publish / subscribe / unsubscribe / broadcast). The syscall
 * table has parsed the arguments; the sender is always taken from the calling process's ACB and task,
 * never from args. BusErrors reach the child with their code.
 */
import { SyscallError, type SyscallCaller, type SyscallTable } from '../kernel-api/syscalls.js';
import { instanceKey } from './addressing.js';
import type { MessageBus } from './bus.js';
import type { Sender } from './mailbox.js';

/** Largest payload one message may carry (JSON bytes). */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

function sender(c: SyscallCaller): Sender {
  return { agent: c.acb.agent, instance: c.acb.instance, address: instanceKey(c.acb.agent, c.acb.instance), task: c.taskId, pid: c.acb.pid };
}

function size(op: string, payload: unknown): number {
  const bytes = Buffer.byteLength(JSON.stringify(payload ?? null));
  if (bytes > MAX_PAYLOAD_BYTES) throw new SyscallError('E_TOO_LARGE', `ctx.${op}: payload is ${bytes} bytes; at most ${MAX_PAYLOAD_BYTES}`);
  return bytes;
}

export function registerBusSyscalls(table: SyscallTable, bus: () => MessageBus): void {
  table.register('bus.send', (c, a) => {
    const bytes = size('send', a.payload);
    return bus().send(sender(c), bus().resolve(a.to), a.payload ?? null, bytes);
  });
  table.register('bus.receive', (c, a) => bus().receive(c.acb, c.taskId, a.timeout_ms));
  table.register('bus.receive_many', (c, a) => bus().receiveMany(c.acb, c.taskId, a.timeout_ms, a.max));
  table.register('bus.publish', (c, a) => bus().publish(sender(c), a.topic, a.payload ?? null, size('publish', a.payload)));
  table.register('bus.subscribe', (c, a) => {
    bus().subscribe(instanceKey(c.acb.agent, c.acb.instance), a.topic);
    return { topic: a.topic, slot: instanceKey(c.acb.agent, c.acb.instance) };
  });
  table.register('bus.unsubscribe', (c, a) => {
    bus().unsubscribe_(instanceKey(c.acb.agent, c.acb.instance), a.topic);
    return { topic: a.topic };
  });
  table.register('bus.broadcast', (c, a) => bus().broadcast(sender(c), a.payload ?? null, size('broadcast', a.payload)));
}
