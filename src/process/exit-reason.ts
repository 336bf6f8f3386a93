/**
 * Turns how an agent process ended into a failure kind and a message. The kernel's own kill reason wins
 * (it knows why it killed); then the cgroup's OOM counter (the kernel OOM-killed a process of the cell);
 * then V8's own fatal heap-limit report — only when the process really aborted (a handler that merely
 * prints "JavaScript heap out of memory" is no memory failure). Anything else is `crash`, its message the
 * actual error line of stderr (crash-line.ts), never the `}` of a printed error's property block.
 */
import type { FailureKind } from '../protocol/messages.js';
import { crashLine } from './crash-line.js';

export type KillReason = 'timeout' | 'memory' | 'shutdown' | 'ready_timeout' | 'init_failed' | 'protocol' | 'cancelled';

/** V8's report of a heap-limit death: a line of its own, as V8 prints it (`FATAL ERROR: ... heap ...`). */
const HEAP_LIMIT = /^(?:<--- JS stacktrace --->\s*)?FATAL ERROR: .*(?:JavaScript heap out of memory|Reached heap limit|Allocation failed - process out of memory|invalid (?:array|table) size)/m;

export interface ExitFacts {
  code: number | null;
  signal: NodeJS.Signals | null;
  killReason: KillReason | undefined;
  stderrTail: string;
  /** The agent's cell recorded an OOM kill by the kernel (cgroup memory limit); `memory` when the process died of SIGKILL. */
  oomKilled?: boolean;
  /** The cgroup memory limit in force (MiB), for the message; absent without a memory cgroup. */
  cgroupLimitMb?: number;
}

/** An abort as V8 ends a process on a fatal error: SIGABRT/SIGTRAP, or 134/133 when a shell reports it. */
function aborted(f: ExitFacts): boolean {
  return f.signal === 'SIGABRT' || f.signal === 'SIGTRAP' || f.signal === 'SIGILL' || f.code === 134 || f.code === 133;
}

/**
 * Classify an ended process. `timeoutMs`: the attempt's limit; `quotaMb`: the RSS quota in force.
 * Returns `{kind, message}`; never throws.
 */
export function classifyExit(f: ExitFacts, timeoutMs: number, quotaMb: number): { kind: FailureKind; message: string } {
  const how = f.signal ? `killed by ${f.signal}` : `exited with code ${f.code}`;
  if (f.killReason === 'timeout') return { kind: 'timeout', message: `no result within ${timeoutMs} ms; process group terminated (${how})` };
  if (f.killReason === 'cancelled') return { kind: 'cancelled', message: `task cancelled; process group terminated (${how})` };
  if (f.oomKilled && f.signal === 'SIGKILL') {
    const limit = f.cgroupLimitMb !== undefined ? ` of ${f.cgroupLimitMb} MB` : '';
    return { kind: 'memory', message: `OOM-killed by the kernel at the cgroup memory limit${limit} (page cache counts; ${how})` };
  }
  if (f.killReason === 'memory') return { kind: 'memory', message: `RSS over the ${quotaMb} MB quota; process killed (${how})` };
  if (aborted(f) && HEAP_LIMIT.test(f.stderrTail)) return { kind: 'memory', message: `V8 heap limit reached (--max-old-space-size=${quotaMb}); process aborted (${how})` };
  const line = crashLine(f.stderrTail);
  return { kind: 'crash', message: `process ${how} without a result${line ? `: ${line}` : ''}` };
}
