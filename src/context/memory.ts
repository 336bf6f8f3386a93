/**
 * Task-local memory and the shared blackboard. Both live in the kernel; agents reach them through
 * syscalls, and the kernel keys local memory by the *calling* task (from the process it holds, never from
 * the arguments), so one task cannot read another's. Blackboard writes are stamped with the writer and
 * keep a short history, so the context manager can tell current entries from superseded ones.
 */
import { AgentOSError } from '../errors.js';

export interface Writer {
  agent: string;
  instance: number;
  task: string;
}

export interface BoardEntry {
  key: string;
  value: unknown;
  /** JSON size of the value. */
  bytes: number;
  version: number;
  writer: Writer;
  /** Milliseconds since the run began. */
  t: number;
}

/** Versions kept per key (the newest is current; older ones are superseded). */
const HISTORY = 8;
const MAX_KEYS = 10_000;
/** JSON bytes the blackboard may hold over all kept versions: one agent cannot fill the kernel's heap. */
export const MAX_BOARD_BYTES = 256 * 1024 * 1024;

export class MemoryError extends AgentOSError {
  declare readonly code: 'E_MEMORY_FULL' | 'E_NO_KEY';
  constructor(code: 'E_MEMORY_FULL' | 'E_NO_KEY', message: string) {
    super(code, message);
    this.name = 'MemoryError';
  }
}

export class Blackboard {
  private readonly entries = new Map<string, BoardEntry[]>();
  private version = 0;
  private bytes = 0;

  set(key: string, value: unknown, writer: Writer, t: number, bytes = 0): BoardEntry {
    let list = this.entries.get(key);
    if (!list && this.entries.size >= MAX_KEYS) throw new MemoryError('E_MEMORY_FULL', `shared memory holds ${MAX_KEYS} keys already`);
    const freed = list && list.length >= HISTORY ? list[0]!.bytes : 0;
    if (this.bytes - freed + bytes > MAX_BOARD_BYTES) throw new MemoryError('E_MEMORY_FULL', `shared memory would exceed ${MAX_BOARD_BYTES} bytes`);
    if (!list) this.entries.set(key, (list = []));
    const e: BoardEntry = { key, value, bytes, version: ++this.version, writer, t };
    list.push(e);
    this.bytes += bytes;
    if (list.length > HISTORY) this.bytes -= list.shift()!.bytes;
    return e;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get(key: string): BoardEntry | undefined {
    const list = this.entries.get(key);
    return list?.[list.length - 1];
  }

  delete(key: string): boolean {
    for (const e of this.entries.get(key) ?? []) this.bytes -= e.bytes;
    return this.entries.delete(key);
  }

  /** Current entries, optionally only keys with this prefix. */
  list(prefix = ''): BoardEntry[] {
    const out: BoardEntry[] = [];
    for (const [k, list] of this.entries) if (k.startsWith(prefix)) out.push(list[list.length - 1]!);
    return out;
  }

  /** Every kept version of the matching keys, oldest first (the context manager's candidates). */
  history(match: (key: string) => boolean): Array<BoardEntry & { superseded: boolean }> {
    const out: Array<BoardEntry & { superseded: boolean }> = [];
    for (const [k, list] of this.entries) {
      if (!match(k)) continue;
      list.forEach((e, i) => out.push({ ...e, superseded: i < list.length - 1 }));
    }
    return out.sort((a, b) => a.version - b.version);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Per-task private memory: a map per task id. */
export class LocalMemory {
  private readonly byTask = new Map<string, Map<string, unknown>>();

  set(task: string, key: string, value: unknown): void {
    let m = this.byTask.get(task);
    if (!m) this.byTask.set(task, (m = new Map()));
    if (!m.has(key) && m.size >= MAX_KEYS) throw new MemoryError('E_MEMORY_FULL', `local memory of task ${task} holds ${MAX_KEYS} keys already`);
    m.set(key, value);
  }

  get(task: string, key: string): unknown {
    return this.byTask.get(task)?.get(key);
  }

  keys(task: string): string[] {
    return [...(this.byTask.get(task)?.keys() ?? [])];
  }
}
