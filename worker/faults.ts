/**
 * Faults injected with `--inject AGENT:FAULT[@ATTEMPT]`, committed by the real child process so the kernel
 * meets them exactly as it would meet a broken handler.
 */
import { writeSync } from 'node:fs';
import type { Fault } from '../src/protocol/messages.js';

/** Commit a fault. Returns only for `garbage`, after the channel was fed junk; the task then runs normally. */
export async function commitFault(fault: Fault): Promise<void> {
  switch (fault) {
    case 'crash':
      process.abort();
      break;
    case 'exit':
      // Exit "successfully" without a result: the kernel must still call it a crash.
      process.exit(0);
      break;
    case 'hang':
      // A busy loop: no timer or signal handler of ours can run, only the kernel's kill helps.
      for (;;) {
        /* spin */
      }
    case 'oom': {
      // Grow the V8 heap until the --max-old-space-size limit aborts the process.
      const hoard: number[][] = [];
      for (;;) hoard.push(new Array<number>(1024 * 1024).fill(hoard.length + 0.5));
    }
    case 'throw':
      throw new Error('injected fault: throw');
    case 'garbage':
      await feedGarbage();
      return;
  }
}

async function feedGarbage(): Promise<void> {
  const send = process.send!.bind(process);
  // Raw bytes that are not JSON, straight onto the IPC pipe, as a broken native addon might write them.
  const fd = (process.channel as unknown as { fd?: number } | undefined)?.fd;
  if (typeof fd === 'number' && fd >= 0) writeSync(fd, '\u0000garbage{{{not json\n');
  // Node's parser drops whatever else arrives in the chunk that held the garbage; let it go alone.
  await new Promise((resolve) => setTimeout(resolve, 20));
  send('a bare string');
  send({ unrelated: true });
  send({ ag: 1, type: 'no-such-type' });
  send({ ag: 1, type: 'result', requestId: 42, ok: 'yes' });
  send({ ag: 1, type: 'ready', pid: -1 });
}
