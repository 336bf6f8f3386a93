/**
 * Turns how an agent process ended into a failure kind. The kernel's own kill reason wins (it knows
 * why it killed); otherwise V8's heap-limit report on stderr means `memory`; anything else is `crash`.
 */
import type { FailureKind } from '../protocol/messages.js';

export type KillReason = 'timeout' | 'memory' | 'shutdown' | 'ready_timeout' | 'init_failed' | 'protocol' | 'cancelled';

const HEAP_LIMIT = /JavaScript heap out of memory|Reached heap limit|Allocation failed - process out of memory|FatalProcessOutOfMemory/;

export interface ExitFacts {
  code: number | null;
  signal: NodeJS.Signals | null;
  killReason: KillReason | undefined;
  stderrTail: string;
}

export function classifyExit(f: ExitFacts, timeoutMs: number, quotaMb: number): { kind: FailureKind; message: string } {
  const how = f.signal ? `killed by ${f.signal}` : `exited with code ${f.code}`;
  if (f.killReason === 'timeout') return { kind: 'timeout', message: `no result within ${timeoutMs} ms; process group terminated (${how})` };
  if (f.killReason === 'cancelled') return { kind: 'cancelled', message: `task cancelled; process group terminated (${how})` };
  if (f.killReason === 'memory') return { kind: 'memory', message: `RSS over the ${quotaMb} MB quota; process killed (${how})` };
  if (HEAP_LIMIT.test(f.stderrTail)) return { kind: 'memory', message: `V8 heap limit reached (--max-old-space-size=${quotaMb}); process aborted (${how})` };
  const last = lastLine(f.stderrTail);
  return { kind: 'crash', message: `process ${how} without a result${last ? `: ${last}` : ''}` };
}

function lastLine(text: string): string {
  // Skip stack frames, native-stack dumps ("3: 0x...") and Node's version footer: keep the message line.
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('at ') && !l.startsWith('Node.js v') && !/^\d+: /.test(l) && !/^-+ .* -+$/.test(l));
  const l = lines[lines.length - 1] ?? '';
  return l.length > 200 ? `${l.slice(0, 197)}...` : l;
}
