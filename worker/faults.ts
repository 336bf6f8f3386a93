/**
 * Faults injected with `--inject AGENT:FAULT[@ATTEMPT]`, committed by the real child process so the kernel
 * meets them exactly as it would meet a broken handler.
 */
import type { Fault } from '../src/protocol/messages.js';
import type { AgentChannel } from './channel.js';

/** Commit a fault. Returns only for `garbage`, after the channel was fed junk (the kernel then ends the process). */
export async function commitFault(fault: Fault, channel: AgentChannel): Promise<void> {
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
      await feedGarbage(channel);
      return;
  }
}

async function feedGarbage(channel: AgentChannel): Promise<void> {
  // Raw bytes that are not JSON, straight onto the channel, as a broken native addon might write them:
  // a protocol violation, so the kernel ends this process (the task's retry runs elsewhere).
  await channel.writeRaw('\u0000garbage{{{not json\n');
}
