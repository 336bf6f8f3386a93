/**
 * The syscall table's argument side: one zod schema per operation (name -> args schema), and the one
 * helper that parses a call's arguments against it. The kernel's SyscallTable parses every call with
 * `parseSyscallArgs` before the handler runs, so handlers receive typed, bounded arguments.
 */
import { z } from 'zod';
import { chatMessageSchema, taskIdSchema } from './ids.js';
import { SYSCALL_OPS, type SyscallOp } from './syscall-ops.js';
import { SyscallError } from './syscall-error.js';

const timeoutMs = z.number().int().min(0).max(3_600_000).default(10_000);
const address = z.union([
  z.string().min(1).max(300),
  z.object({ agent: z.string().min(1).max(100).optional(), instance: z.number().int().positive().optional(), task: z.string().min(1).max(500).optional() }).strict(),
]);
const topic = z.string().min(1).max(200).regex(/^[^*]/, 'topics may not start with *');
const key = z.string().min(1).max(500);
const MAX_TOKENS_PER_CALL = 1_000_000;
const kvTokens = z.array(z.number().int().min(0).max(0x7fffffff)).max(MAX_TOKENS_PER_CALL);
const seq = z.string().min(1).max(100);
const taskList = z.array(taskIdSchema).min(1).max(10_000);
const memKey = z.object({ key }).strict();
const memSet = z.object({ key, value: z.unknown() }).strict();

/** Arguments of each operation. Ops without arguments accept anything (the worker sends none). */
export const SYSCALL_ARGS = {
  'task.spawn': z
    .object({
      id: taskIdSchema,
      agent: z.string().min(1),
      deps: z.array(taskIdSchema).default([]),
      input: z.unknown().optional(),
      /** Per-task attempt limit; never above the agent's own timeout_ms. */
      timeout_ms: z.number().int().positive().optional(),
      /** Per-task memory quota (MiB) of the process tree; never above the agent's own memory_mb. */
      memory_mb: z.number().int().min(16).optional(),
    })
    .strict(),
  'task.cancel': z.object({ tasks: taskList, reason: z.string().max(500).optional() }).strict(),
  'task.wait': z
    .object({
      tasks: taskList,
      /** `all`: every task terminal. `first`: the first task that succeeded (with `field` true, if given). */
      until: z.enum(['all', 'first']).default('all'),
      /** Top-level boolean field of a task's output that makes it count for `first`. */
      field: z.string().max(100).optional(),
    })
    .strict(),
  'llm.chat': z
    .object({
      messages: z.array(chatMessageSchema).min(1).max(100),
      max_tokens: z.number().int().min(1).max(32_000).optional(),
      temperature: z.number().min(0).max(2).optional(),
    })
    .strict(),
  'bus.send': z.object({ to: address, payload: z.unknown() }).strict(),
  'bus.receive': z.object({ timeout_ms: timeoutMs }).strict(),
  'bus.receive_many': z.object({ timeout_ms: timeoutMs, max: z.number().int().min(1).max(10_000).default(64) }).strict(),
  'bus.publish': z.object({ topic, payload: z.unknown() }).strict(),
  'bus.subscribe': z.object({ topic }).strict(),
  'bus.unsubscribe': z.object({ topic }).strict(),
  'bus.broadcast': z.object({ payload: z.unknown() }).strict(),
  'memory.get': memKey,
  'memory.set': memSet,
  'memory.delete': memKey,
  'memory.list': z.object({ prefix: z.string().max(500).default('') }).strict(),
  'memory.local.get': memKey,
  'memory.local.set': memSet,
  'memory.local.keys': z.unknown(),
  'memory.context': z.object({ prefix: z.string().max(500).optional(), keys: z.array(key).max(10_000).optional(), budget: z.number().int().min(1).optional() }).strict(),
  'tokens.count': z.object({ text: z.string().max(10_000_000) }).strict(),
  'kv.create': z.object({ tokens: kvTokens.default([]) }).strict(),
  'kv.append': z.object({ seq, tokens: kvTokens }).strict(),
  'kv.fork': z.object({ seq }).strict(),
  'kv.free': z.object({ seq }).strict(),
  'kv.read': z.object({ seq, start: z.number().int().min(0).optional(), end: z.number().int().min(0).optional() }).strict(),
  'kv.stats': z.unknown(),
} as const satisfies Record<SyscallOp, z.ZodType>;

/** The parsed arguments of one operation. */
export type SyscallArgs<O extends SyscallOp> = z.output<(typeof SYSCALL_ARGS)[O]>;

/** Parse a call's arguments (absent: `{}`). Throws SyscallError E_SCHEMA naming the op and the field. */
export function parseSyscallArgs<O extends SyscallOp>(op: O, args: unknown): SyscallArgs<O> {
  const r = SYSCALL_ARGS[op].safeParse(args ?? {});
  if (r.success) return r.data as SyscallArgs<O>;
  const i = r.error.issues[0];
  throw new SyscallError('E_SCHEMA', `${SYSCALL_OPS[op]}: ${i?.path.join('.') || 'arguments'}: ${i?.message ?? 'invalid'}`);
}
