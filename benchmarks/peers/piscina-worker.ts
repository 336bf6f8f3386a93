/** Piscina task module: a no-op, a CPU spin, or one of the injected faults. */
import { commitPeerFault, spin, type PeerFault } from '../lib/faults.js';

export default function task(t: { cpu_ms?: number; fault?: PeerFault }): number {
  if (t.fault) commitPeerFault(t.fault);
  return t.cpu_ms ? spin(t.cpu_ms) : 0;
}
