/** BullMQ sandboxed processor (runs in a child process BullMQ forks): a no-op or an injected fault. */
import { commitPeerFault, type PeerFault } from '../lib/faults.js';

export default async function processor(job: { data: { fault?: PeerFault; attemptsMade?: number }; attemptsMade: number }): Promise<number> {
  // The fault is committed on the job's first attempt only, as AgentOS's injection does.
  if (job.data.fault && job.attemptsMade === 0) commitPeerFault(job.data.fault);
  return 0;
}
