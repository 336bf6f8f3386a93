/**
 * The names of every syscall an agent may make, with the label its errors carry (`ctx.<label>: ...`).
 * zod-free on purpose: worker/host.ts imports it (as types) so its `ctx.*` helpers can only name real
 * operations, at no start-up cost. The argument schemas are in syscall-args.ts, keyed by the same names.
 */
export const SYSCALL_OPS = {
  'task.spawn': 'ctx.spawn',
  'task.cancel': 'ctx.cancel',
  'task.wait': 'ctx.wait',
  'llm.chat': 'ctx.llm',
  'bus.send': 'ctx.send',
  'bus.receive': 'ctx.receive',
  'bus.receive_many': 'ctx.receiveMany',
  'bus.publish': 'ctx.publish',
  'bus.subscribe': 'ctx.subscribe',
  'bus.unsubscribe': 'ctx.unsubscribe',
  'bus.broadcast': 'ctx.broadcast',
  'memory.get': 'ctx.memory.get',
  'memory.set': 'ctx.memory.set',
  'memory.delete': 'ctx.memory.delete',
  'memory.list': 'ctx.memory.list',
  'memory.local.get': 'ctx.memory.local.get',
  'memory.local.set': 'ctx.memory.local.set',
  'memory.local.keys': 'ctx.memory.local.keys',
  'memory.context': 'ctx.memory.context',
  'tokens.count': 'ctx.tokens.count',
  'kv.create': 'ctx.kv.create',
  'kv.append': 'ctx.kv.append',
  'kv.fork': 'ctx.kv.fork',
  'kv.free': 'ctx.kv.free',
  'kv.read': 'ctx.kv.read',
  'kv.stats': 'ctx.kv.stats',
} as const;

export type SyscallOp = keyof typeof SYSCALL_OPS;
