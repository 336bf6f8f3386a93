/**
 * The context manager's syscalls (ctx.memory.*, ctx.tokens.count). Local memory is keyed by the caller's
 * task as the kernel knows it, so no argument can reach another task's memory.
 */
import { z } from 'zod';
import { SyscallError, type SyscallTable } from '../kernel/syscalls.js';
import type { ContextManager } from './manager.js';
import { MemoryError } from './memory.js';

const key = z.string().min(1).max(500);
const MAX_VALUE_BYTES = 1024 * 1024;
const schemas = {
  get: z.object({ key }).strict(),
  set: z.object({ key, value: z.unknown() }).strict(),
  list: z.object({ prefix: z.string().max(500).default('') }).strict(),
  context: z.object({ prefix: z.string().max(500).optional(), keys: z.array(key).max(10_000).optional(), budget: z.number().int().min(1).optional() }).strict(),
  count: z.object({ text: z.string().max(10_000_000) }).strict(),
};

function parse<T extends z.ZodType>(op: string, schema: T, args: unknown): z.output<T> {
  const r = schema.safeParse(args ?? {});
  if (!r.success) {
    const i = r.error.issues[0];
    throw new SyscallError('E_SCHEMA', `ctx.${op}: ${i?.path.join('.') || 'arguments'}: ${i?.message ?? 'invalid'}`);
  }
  return r.data;
}

function checkSize(op: string, value: unknown): number {
  const bytes = Buffer.byteLength(JSON.stringify(value ?? null));
  if (bytes > MAX_VALUE_BYTES) throw new SyscallError('E_TOO_LARGE', `ctx.${op}: value is ${bytes} bytes; at most ${MAX_VALUE_BYTES}`);
  return bytes;
}

function mapped<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof MemoryError) throw new SyscallError(err.code, err.message);
    throw err;
  }
}

export function registerContextSyscalls(table: SyscallTable, cm: () => ContextManager): void {
  table.register('memory.get', (_c, args) => {
    const a = parse('memory.get', schemas.get, args);
    const e = cm().board.get(a.key);
    return e ? { key: e.key, value: e.value, version: e.version, writer: e.writer } : null;
  });
  table.register('memory.set', (c, args) => {
    const a = parse('memory.set', schemas.set, args);
    const bytes = checkSize('memory.set', a.value);
    return mapped(() => cm().write(c, a.key, a.value ?? null, bytes));
  });
  table.register('memory.delete', (_c, args) => {
    const a = parse('memory.delete', schemas.get, args);
    return { deleted: cm().board.delete(a.key) };
  });
  table.register('memory.list', (_c, args) => {
    const a = parse('memory.list', schemas.list, args);
    return cm().board.list(a.prefix).map((e) => ({ key: e.key, version: e.version, writer: e.writer }));
  });
  table.register('memory.local.get', (c, args) => {
    const a = parse('memory.local.get', schemas.get, args);
    return cm().local.get(c.taskId, a.key) ?? null;
  });
  table.register('memory.local.set', (c, args) => {
    const a = parse('memory.local.set', schemas.set, args);
    checkSize('memory.local.set', a.value);
    mapped(() => cm().local.set(c.taskId, a.key, a.value ?? null));
    return { ok: true };
  });
  table.register('memory.local.keys', (c) => cm().local.keys(c.taskId));
  table.register('memory.context', (c, args) => {
    const a = parse('memory.context', schemas.context, args);
    return cm().context(c, a);
  });
  table.register('tokens.count', async (_c, args) => {
    const a = parse('tokens.count', schemas.count, args);
    return (await cm().tokenizer()).count(a.text);
  });
}
