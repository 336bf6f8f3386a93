/**
 * The context manager's syscalls (ctx.memory.*, ctx.tokens.count). Local memory is keyed by the caller's
 * task as the kernel knows it, so no argument can reach another task's memory. The syscall table has
 * parsed the arguments; MemoryErrors reach the child with their code.
 */
import { SyscallError, type SyscallTable } from '../kernel-api/syscalls.js';
import type { ContextManager } from './manager.js';

const MAX_VALUE_BYTES = 1024 * 1024;

function checkSize(op: string, value: unknown): number {
  const bytes = Buffer.byteLength(JSON.stringify(value ?? null));
  if (bytes > MAX_VALUE_BYTES) throw new SyscallError('E_TOO_LARGE', `ctx.${op}: value is ${bytes} bytes; at most ${MAX_VALUE_BYTES}`);
  return bytes;
}

export function registerContextSyscalls(table: SyscallTable, cm: () => ContextManager): void {
  table.register('memory.get', (_c, a) => {
    const e = cm().board.get(a.key);
    return e ? { key: e.key, value: e.value, version: e.version, writer: e.writer } : null;
  });
  table.register('memory.set', (c, a) => {
    const bytes = checkSize('memory.set', a.value);
    return cm().write(c, a.key, a.value ?? null, bytes);
  });
  table.register('memory.delete', (c, a) => cm().remove(c, a.key));
  table.register('memory.list', (_c, a) => cm().board.list(a.prefix).map((e) => ({ key: e.key, version: e.version, writer: e.writer })));
  table.register('memory.local.get', (c, a) => cm().local.get(c.taskId, a.key) ?? null);
  table.register('memory.local.set', (c, a) => {
    checkSize('memory.local.set', a.value);
    cm().local.set(c.taskId, a.key, a.value ?? null);
    return { ok: true };
  });
  table.register('memory.local.keys', (c) => cm().local.keys(c.taskId));
  table.register('memory.context', (c, a) => cm().context(c, a));
  table.register('tokens.count', async (_c, a) => (await cm().tokenizer()).count(a.text));
}
