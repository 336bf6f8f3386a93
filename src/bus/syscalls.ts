/**
 * The bus's syscalls (ctx.send / receive / publish / subscribe / unsubscribe / broadcast). Arguments are
 * validated here; the sender is always taken from the calling process's ACB and task, never from args.
 */
import { z } from 'zod';
import { SyscallError, type SyscallCaller, type SyscallTable } from '../kernel/syscalls.js';
import { BusError, instanceKey, type MessageBus } from './bus.js';
import type { Sender } from './mailbox.js';

/** Largest payload one message may carry (JSON bytes). */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

const address = z.union([
  z.string().min(1).max(300),
  z.object({ agent: z.string().min(1).max(100).optional(), instance: z.number().int().positive().optional(), task: z.string().min(1).max(500).optional() }).strict(),
]);
const topic = z.string().min(1).max(200).regex(/^[^*]/, 'topics may not start with *');
const schemas = {
  send: z.object({ to: address, payload: z.unknown() }).strict(),
  receive: z.object({ timeout_ms: z.number().int().min(0).max(3_600_000).default(10_000) }).strict(),
  receiveMany: z.object({ timeout_ms: z.number().int().min(0).max(3_600_000).default(10_000), max: z.number().int().min(1).max(10_000).default(64) }).strict(),
  publish: z.object({ topic, payload: z.unknown() }).strict(),
  subscribe: z.object({ topic }).strict(),
  broadcast: z.object({ payload: z.unknown() }).strict(),
};

function parse<T extends z.ZodType>(op: string, schema: T, args: unknown): z.output<T> {
  const r = schema.safeParse(args ?? {});
  if (!r.success) {
    const i = r.error.issues[0];
    throw new SyscallError('E_SCHEMA', `ctx.${op}: ${i?.path.join('.') || 'arguments'}: ${i?.message ?? 'invalid'}`);
  }
  return r.data;
}

function sender(c: SyscallCaller): Sender {
  return { agent: c.acb.agent, instance: c.acb.instance, address: instanceKey(c.acb.agent, c.acb.instance), task: c.taskId, pid: c.acb.pid };
}

function size(op: string, payload: unknown): number {
  const bytes = Buffer.byteLength(JSON.stringify(payload ?? null));
  if (bytes > MAX_PAYLOAD_BYTES) throw new SyscallError('E_TOO_LARGE', `ctx.${op}: payload is ${bytes} bytes; at most ${MAX_PAYLOAD_BYTES}`);
  return bytes;
}

/** BusError -> SyscallError with the same code (the child sees err.code). */
async function mapped<T>(p: () => T | Promise<T>): Promise<T> {
  try {
    return await p();
  } catch (err) {
    if (err instanceof BusError) throw new SyscallError(err.code, err.message);
    throw err;
  }
}

export function registerBusSyscalls(table: SyscallTable, bus: () => MessageBus): void {
  table.register('bus.send', (c, args) => {
    const a = parse('send', schemas.send, args);
    const bytes = size('send', a.payload);
    return mapped(() => bus().send(sender(c), bus().resolve(a.to), a.payload ?? null, bytes));
  });
  table.register('bus.receive', (c, args) => {
    const a = parse('receive', schemas.receive, args);
    return bus().receive(c.acb, c.taskId, a.timeout_ms);
  });
  table.register('bus.receive_many', (c, args) => {
    const a = parse('receiveMany', schemas.receiveMany, args);
    return bus().receiveMany(c.acb, c.taskId, a.timeout_ms, a.max);
  });
  table.register('bus.publish', (c, args) => {
    const a = parse('publish', schemas.publish, args);
    return mapped(() => bus().publish(sender(c), a.topic, a.payload ?? null, size('publish', a.payload)));
  });
  table.register('bus.subscribe', (c, args) => {
    const a = parse('subscribe', schemas.subscribe, args);
    bus().subscribe(instanceKey(c.acb.agent, c.acb.instance), a.topic);
    return { topic: a.topic, slot: instanceKey(c.acb.agent, c.acb.instance) };
  });
  table.register('bus.unsubscribe', (c, args) => {
    const a = parse('unsubscribe', schemas.subscribe, args);
    bus().unsubscribe_(instanceKey(c.acb.agent, c.acb.instance), a.topic);
    return { topic: a.topic };
  });
  table.register('bus.broadcast', (c, args) => {
    const a = parse('broadcast', schemas.broadcast, args);
    return mapped(() => bus().broadcast(sender(c), a.payload ?? null, size('broadcast', a.payload)));
  });
}
