/**
 * The two non-AgentOS baselines' processes (see benchmarks/baselines.ts):
 *   single <faults-json>             (a) one process runs every step of the repair workflow; a thrown error
 *                                        is retried in-process (up to 3 attempts), nothing else can be
 *   step <id> <deps-json> [fault]    (b) one step in a fresh process; prints its output
 * faults-json maps a step id to the fault its first attempt commits.
 */
import { emitResult } from './lib/child.js';
import { commitPeerFault, type PeerFault } from './lib/faults.js';
import { loadRepairHandlers, REPAIR_INPUTS, REPAIR_STEPS, type RepairStep } from './lib/repair.js';

const [mode, a, b, c] = process.argv.slice(2);
const h = await loadRepairHandlers();

if (mode === 'single') {
  const faults = JSON.parse(a ?? '{}') as Partial<Record<RepairStep, PeerFault>>;
  const deps: Record<string, unknown> = {};
  let attempts = 0;
  const attemptsByStep: Record<string, number> = {};
  for (const s of REPAIR_STEPS) {
    for (let attempt = 1; ; attempt++) {
      attempts++;
      attemptsByStep[s.id] = attempt;
      // progress on stderr: if the process dies, the orchestrator still knows how far it got
      process.stderr.write(`attempt ${s.id} ${attempt}\n`);
      try {
        if (attempt === 1 && faults[s.id]) commitPeerFault(faults[s.id]!);
        deps[s.id] = await h[s.id](REPAIR_INPUTS[s.id], { deps, log: () => {} });
        break;
      } catch (err) {
        if (attempt >= 3) {
          emitResult({ fixed: false, attempts, attemptsByStep, error: (err as Error).message });
          process.exit(1);
        }
      }
    }
  }
  emitResult({ fixed: (deps.report as { fixed?: boolean }).fixed === true, attempts, attemptsByStep });
} else if (mode === 'step') {
  const id = a as RepairStep;
  const deps = JSON.parse(b ?? '{}') as Record<string, unknown>;
  if (c) commitPeerFault(c as PeerFault);
  emitResult({ output: await h[id](REPAIR_INPUTS[id], { deps, log: () => {} }) });
}
