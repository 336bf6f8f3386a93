/**
 * The run journal's cost inside the kernel (part of `npm run bench:kernel`): the same plans run with the
 * journal on (the default: journal.jsonl, group commit 2 ms, fdatasync) and off (`journal: false`),
 * alternated in one process so both see the same machine load. The agent is `noop` with 2 instances.
 *   throughput: N independent tasks; tasks/s from the first dispatch to the scheduler's end (every
 *     result durable), at the kernel's default concurrency.
 *   task_rtt_us: a chain of M tasks (each depends on the one before, so every step waits for its
 *     predecessor's result to be durable); median time between two successive dispatches.
 * An attempt holds its concurrency slot until its result is durable (a kill re-runs at most
 * `concurrency` attempts), so with the journal on the throughput is bounded by concurrency / (task
 * round trip + commit latency): the bench also runs a concurrency above the default, where commits of
 * finished tasks overlap the next tasks' work.
 * Goal (issue 11): throughput loss <= 10% with the journal on.
 */
import { AgentRegistry } from '../src/config/registry.js';
import type { Plan } from '../src/config/plan.js';
import { DEFAULTS } from '../src/config/defaults.js';
import { Kernel } from '../src/kernel/kernel.js';
import { median, round } from './stats.js';

type Mode = 'off' | 'on' | 'on_window_0';
interface ModeFigures {
  tasks_per_s: number;
  task_rtt_us: number;
}

export interface JournalCost {
  agents: number;
  /** The kernel's concurrency (its default on this machine, or a higher one to overlap fsyncs). */
  concurrency: number;
  tasks_throughput: number;
  tasks_chain: number;
  rounds: number;
  /** `journal: false`; the default journal (group-commit window 2 ms); the journal with a 0 ms window. */
  off: ModeFigures;
  on: ModeFigures;
  on_window_0: ModeFigures;
  ratios: { throughput_on_vs_off: number; throughput_loss_pct: number; task_rtt_on_vs_off: number; throughput_window_0_vs_off: number; task_rtt_window_0_vs_off: number };
  goal: { max_throughput_loss_pct: number; met: boolean };
}

const AGENT_INSTANCES = 2;

function kernel(agentsDir: string, runsDir: string, mode: Mode, concurrency: number): Kernel {
  const registry = new AgentRegistry([agentsDir]);
  Object.assign(registry.get('noop'), { instances: AGENT_INSTANCES });
  const journal = mode === 'off' ? false : mode === 'on_window_0' ? { windowMs: 0 } : {};
  return new Kernel({ registry, runsDir, concurrency, sampleIntervalMs: 60_000, journal });
}

/** Run `plan`; the dispatch times (ms, event clock order) and the time from the first dispatch to the scheduler's end. */
async function timedRun(agentsDir: string, runsDir: string, mode: Mode, plan: Plan, concurrency: number): Promise<{ spanMs: number; starts: number[] }> {
  const k = kernel(agentsDir, runsDir, mode, concurrency);
  const starts: number[] = [];
  k.events.on((e) => {
    if (e.type === 'task.state' && e.state === 'running') starts.push(performance.now());
  });
  let end = 0;
  void k.scheduler.done.then(() => (end = performance.now()));
  const report = await k.run(plan);
  if (report.status !== 'succeeded') throw new Error(`journal cost bench: run ${report.status}`);
  if ((report.tasks.length ?? 0) !== plan.tasks.length) throw new Error('journal cost bench: tasks missing from the report');
  return { spanMs: end - starts[0]!, starts };
}

const independent = (n: number): Plan => ({ name: 'journal-cost-throughput', tasks: Array.from({ length: n }, (_, i) => ({ id: `t${i}`, agent: 'noop', deps: [], input: { n: i } })) });
const chain = (n: number): Plan => ({ name: 'journal-cost-chain', tasks: Array.from({ length: n }, (_, i) => ({ id: `c${i}`, agent: 'noop', deps: i > 0 ? [`c${i - 1}`] : [], input: { n: i } })) });

/**
 * Measure the journal's cost: `rounds` rounds of throughput and chain runs in each mode, the order of
 * the modes rotated every round; medians per mode.
 */
export async function journalCost(agentsDir: string, runsDir: string, o: { tasks: number; chain: number; rounds: number; concurrency?: number; log: (m: string) => void }): Promise<JournalCost> {
  const concurrency = o.concurrency ?? DEFAULTS.concurrency;
  const modes: Mode[] = ['off', 'on', 'on_window_0'];
  const tput: Record<Mode, number[]> = { off: [], on: [], on_window_0: [] };
  const rtt: Record<Mode, number[]> = { off: [], on: [], on_window_0: [] };
  // Warm-up: the first kernel of a process pays for module loading and the first spawn.
  await timedRun(agentsDir, runsDir, 'on', independent(50), concurrency);
  for (let r = 0; r < o.rounds; r++) {
    for (let m = 0; m < modes.length; m++) {
      const mode = modes[(m + r) % modes.length]!;
      const t = await timedRun(agentsDir, runsDir, mode, independent(o.tasks), concurrency);
      tput[mode].push(o.tasks / (t.spanMs / 1000));
      const c = await timedRun(agentsDir, runsDir, mode, chain(o.chain), concurrency);
      const gaps = c.starts.slice(1).map((s, i) => (s - c.starts[i]!) * 1000);
      rtt[mode].push(median(gaps));
      o.log(`  concurrency ${concurrency} round ${r + 1} journal ${mode}: ${Math.round(o.tasks / (t.spanMs / 1000))} tasks/s, chain step ${Math.round(median(gaps))} us`);
    }
  }
  const fig = (m: Mode): ModeFigures => ({ tasks_per_s: Math.round(median(tput[m])), task_rtt_us: round(median(rtt[m])) });
  const ratio = median(tput.on) / median(tput.off);
  const loss = round((1 - ratio) * 100);
  return {
    agents: AGENT_INSTANCES,
    concurrency,
    tasks_throughput: o.tasks,
    tasks_chain: o.chain,
    rounds: o.rounds,
    off: fig('off'),
    on: fig('on'),
    on_window_0: fig('on_window_0'),
    ratios: {
      throughput_on_vs_off: round(ratio, 3),
      throughput_loss_pct: loss,
      task_rtt_on_vs_off: round(median(rtt.on) / median(rtt.off), 2),
      throughput_window_0_vs_off: round(median(tput.on_window_0) / median(tput.off), 3),
      task_rtt_window_0_vs_off: round(median(rtt.on_window_0) / median(rtt.off), 2),
    },
    goal: { max_throughput_loss_pct: 10, met: loss <= 10 },
  };
}
