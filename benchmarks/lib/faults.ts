/**
 * The faults the peer benchmarks commit inside a peer's task, the same four AgentOS injects
 * (worker/faults.ts): a native crash, an endless busy loop, a heap blow-up and a thrown error.
 */
import { isMainThread } from 'node:worker_threads';

export type PeerFault = 'crash' | 'hang' | 'oom' | 'throw';
export const PEER_FAULTS: readonly PeerFault[] = ['crash', 'hang', 'oom', 'throw'];

export function commitPeerFault(fault: PeerFault): void {
  switch (fault) {
    case 'crash':
      // A native crash (SIGABRT, like AgentOS's injected crash). A worker thread may not call
      // process.abort(), so there the thread raises SIGABRT on its process, as a native fault in a
      // thread does.
      if (isMainThread) process.abort();
      else process.kill(process.pid, 'SIGABRT');
      for (;;) {
        /* the signal is on its way */
      }
    case 'hang':
      for (;;) {
        /* spin: no timer or promise of ours can run */
      }
    case 'oom': {
      const hoard: number[][] = [];
      for (;;) hoard.push(new Array<number>(256 * 1024).fill(hoard.length));
    }
    case 'throw':
      throw new Error('injected fault: throw');
  }
}

export function spin(ms: number): number {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) n++;
  return n;
}
