/**
 * Part 3: peer frameworks driven through their real APIs, beside AgentOS on the same workloads.
 *   dispatch: no-op and CPU tasks (per-task overhead, throughput), serial round trip, 1,000-task fan-out
 *   containment: one task of a batch crashes the process, hangs, blows the heap or throws
 * Each peer scenario runs in its own process (lib/child.ts), so a peer that dies is measured, not fatal.
 */
import { fileURLToPath } from 'node:url';
import { runStressCli, stressCommandLine, type StressArgs } from './lib/agentos.js';
import { runScenario, type ChildOutcome } from './lib/child.js';
import { PEER_FAULTS } from './lib/faults.js';
import { round } from './lib/stats.js';
import { runBullmq, type BullmqResult } from './peers/bullmq.js';

const PISCINA = fileURLToPath(new URL('./peers/piscina-scenario.js', import.meta.url));
const LANGGRAPH = fileURLToPath(new URL('./peers/langgraph-scenario.js', import.meta.url));

export interface DispatchRow {
  system: string;
  what_ran: string;
  workers: number;
  tasks: number;
  per_task_us: number | null;
  throughput_per_s: number | null;
  isolation: string;
  /** AgentOS rows: the kernel's CPU per attempt over the dispatch phase (us, stress report). */
  kernel_cpu_us_per_task?: number | null;
}

export interface ContainmentRow {
  system: string;
  what_ran: string;
  fault: string;
  /** What happened, measured. */
  outcome: string;
  completed: number | null;
  of: number;
  ms: number | null;
  process_survived: boolean;
  retries: number | null;
}

function describeChild(o: ChildOutcome<unknown>): string {
  if (o.killedAtDeadline) return `still running at the ${Math.round(o.ms / 1000)} s deadline (stalled), killed by the benchmark`;
  if (o.signal) return `process died (${o.signal})`;
  if (o.code !== 0) return `process exited with code ${o.code}`;
  return 'process ended normally';
}

async function agentosStress(a: StressArgs) {
  const { report } = await runStressCli(a);
  return { report, command: stressCommandLine(a) };
}

export async function runDispatch(o: { quick: boolean; runsDir: string; log: (s: string) => void }): Promise<DispatchRow[]> {
  const rows: DispatchRow[] = [];
  // 20,000: the kernel's CPU per task is read over at least that many (issue 14); --quick: 5,000 (smoke)
  const noop = o.quick ? 5000 : 20_000;
  const serial = o.quick ? 250 : 1000;
  const cpuTasks = o.quick ? 200 : 1000;
  const fan = 1000;
  const W = 2;
  const push = (r: DispatchRow): void => {
    rows.push(r);
    o.log(`  dispatch ${r.system} ${r.what_ran.slice(0, 60)}: ${r.per_task_us} us/task, ${r.throughput_per_s}/s`);
  };

  // AgentOS warm agent processes, no-op tasks (stress_worker with no CPU and no wait)
  for (const [label, args] of [
    ['no-op', { agents: W, tasks: noop, cpuMs: 0, waitMs: 0, runsDir: o.runsDir }],
    ['serial no-op (1 agent)', { agents: 1, tasks: serial, cpuMs: 0, waitMs: 0, runsDir: o.runsDir }],
    ['CPU 2 ms', { agents: W, tasks: cpuTasks, cpuMs: 2, cpuShare: 1, runsDir: o.runsDir }],
    ['fan-out 1,000 no-op', { agents: W, tasks: fan, cpuMs: 0, waitMs: 0, runsDir: o.runsDir }],
  ] as Array<[string, StressArgs]>) {
    const { report, command } = await agentosStress(args);
    push({ system: 'AgentOS', what_ran: `${label}: \`${command}\``, workers: args.agents, tasks: args.tasks, per_task_us: report.throughput_per_s > 0 ? round(1e6 / report.throughput_per_s, 1) : null, throughput_per_s: report.throughput_per_s, isolation: 'a process per agent (own heap, own pid, killable)', kernel_cpu_us_per_task: report.kernel_cpu_us_per_task ?? null });
  }

  // Piscina worker threads
  const pd = await runScenario<{ per_task_us: number; throughput_per_s: number }>(PISCINA, ['dispatch', String(W), String(noop), '0'], { deadlineMs: 120_000 });
  push({ system: 'Piscina', what_ran: `no-op: Piscina({minThreads:${W},maxThreads:${W}}), ${noop} pool.run() at once after warm-up`, workers: W, tasks: noop, per_task_us: round(pd.result?.per_task_us ?? null, 1), throughput_per_s: round(pd.result?.throughput_per_s ?? null, 1), isolation: 'threads of one process (shared pid and address space)' });
  const ps = await runScenario<{ rtt_us: number }>(PISCINA, ['serial', String(serial)], { deadlineMs: 120_000 });
  push({ system: 'Piscina', what_ran: `serial no-op (1 thread): ${serial} awaited pool.run() in a row`, workers: 1, tasks: serial, per_task_us: round(ps.result?.rtt_us ?? null, 1), throughput_per_s: ps.result ? round(1e6 / ps.result.rtt_us, 1) : null, isolation: 'threads of one process (shared pid and address space)' });
  const pc = await runScenario<{ per_task_us: number; throughput_per_s: number }>(PISCINA, ['dispatch', String(W), String(cpuTasks), '2'], { deadlineMs: 120_000 });
  push({ system: 'Piscina', what_ran: `CPU 2 ms: ${cpuTasks} tasks spinning 2 ms on ${W} threads`, workers: W, tasks: cpuTasks, per_task_us: round(pc.result?.per_task_us ?? null, 1), throughput_per_s: round(pc.result?.throughput_per_s ?? null, 1), isolation: 'threads of one process (shared pid and address space)' });

  // LangGraph: 1,000-node Send fan-out of no-op nodes, in one process
  const lg = await runScenario<{ per_task_us: number; ms: number; completed: number }>(LANGGRAPH, ['fanout', String(fan)], { deadlineMs: 120_000 });
  push({ system: 'LangGraph JS', what_ran: `fan-out 1,000 no-op: StateGraph, START -> ${fan} x Send('work') -> END, graph.invoke() (median of 3)`, workers: 1, tasks: fan, per_task_us: round(lg.result?.per_task_us ?? null, 1), throughput_per_s: lg.result ? round((fan * 1000) / lg.result.ms, 1) : null, isolation: 'none: every node runs in the one process' });
  return rows;
}

export async function runContainment(o: { quick: boolean; runsDir: string; log: (s: string) => void; bullmq: BullmqResult | undefined }): Promise<ContainmentRow[]> {
  const rows: ContainmentRow[] = [];
  const batch = 1000;
  // --quick: two faults and a 3 s stall deadline, to stay a smoke run
  const faults = o.quick ? PEER_FAULTS.filter((f) => f === 'crash' || f === 'hang') : PEER_FAULTS;
  const deadlineMs = o.quick ? 3000 : 10_000;
  const push = (r: ContainmentRow): void => {
    rows.push(r);
    o.log(`  containment ${r.system} ${r.fault}: ${r.outcome}`);
  };
  for (const fault of faults) {
    // AgentOS: 1,000 no-op tasks on 2 agents, exactly one task's first attempt commits the fault
    const args: StressArgs = { agents: 2, tasks: batch, faultRate: 1 / batch, faults: fault, cpuMs: 0, waitMs: 0, runsDir: o.runsDir };
    const { report, command } = await agentosStress(args);
    push({ system: 'AgentOS', what_ran: `\`${command}\``, fault, outcome: `${report.succeeded}/${report.tasks} succeeded; ${report.retries} retry, ${report.restarts} restart; failure kinds ${JSON.stringify(report.failures_by_kind)}; kernel alive`, completed: report.succeeded, of: batch, ms: report.duration_ms, process_survived: true, retries: report.retries });

    // LangGraph: the same 1,000-task fan-out, node #500 commits the fault
    const lg = await runScenario<{ completed: number; error: string | null; ms: number }>(LANGGRAPH, ['fanout', String(batch), fault], { deadlineMs, nodeFlags: ['--max-old-space-size=256'] });
    push({ system: 'LangGraph JS', what_ran: `StateGraph ${batch}-node Send fan-out, node #${batch / 2} commits '${fault}' (--max-old-space-size=256, ${deadlineMs / 1000} s deadline)`, fault, outcome: lg.result ? (lg.result.error ? `graph.invoke() rejected: ${lg.result.error}; 0 results returned` : `completed ${lg.result.completed}`) : `${describeChild(lg)}; every result of the graph lost`, completed: lg.result ? lg.result.completed : 0, of: batch, ms: round(lg.result?.ms ?? lg.ms, 0), process_survived: lg.result !== undefined, retries: null });

    // LangGraph: the repair workflow, patch node commits the fault
    const lr = await runScenario<{ fixed: boolean; error: string | null; ms: number }>(LANGGRAPH, ['repair', fault], { deadlineMs, nodeFlags: ['--max-old-space-size=256'] });
    push({ system: 'LangGraph JS', what_ran: `repair workflow as a 5-node StateGraph, the patch node commits '${fault}' (no retryPolicy)`, fault, outcome: lr.result ? (lr.result.fixed ? 'fixed' : `not fixed: ${lr.result.error}`) : `${describeChild(lr)}; workflow lost`, completed: lr.result?.fixed ? 1 : 0, of: 1, ms: round(lr.result?.ms ?? lr.ms, 0), process_survived: lr.result !== undefined, retries: null });

    // Piscina: 20 no-op tasks and one faulting task on 2 threads
    for (const abortMs of fault === 'hang' ? [0, 1000] : [0]) {
      const pi = await runScenario<{ others_ok: number; faulty: { ok: boolean; error?: string; ms: number }; after: string }>(PISCINA, ['fault', fault, String(abortMs)], { deadlineMs });
      const what = `Piscina 2 threads (resourceLimits.maxOldGenerationSizeMb 96), 20 no-op tasks + 1 task committing '${fault}'${abortMs ? `, run with AbortSignal.timeout(${abortMs})` : ', no abort signal'}`;
      const outcome = pi.result ? `faulty task ${pi.result.faulty.ok ? 'resolved' : `rejected after ${Math.round(pi.result.faulty.ms)} ms (${pi.result.faulty.error})`}; ${pi.result.others_ok}/20 others ok; next task ${pi.result.after}` : `${describeChild(pi)}${/others settled: (\d+)/.exec(pi.stderrTail) ? `; ${/others settled: (\d+)/.exec(pi.stderrTail)![1]}/20 others had settled but the faulty task never did` : '; the whole pool and its results lost'}`;
      push({ system: 'Piscina', what_ran: what, fault, outcome, completed: pi.result ? pi.result.others_ok : null, of: 21, ms: pi.result ? round(pi.result.faulty.ms, 0) : pi.ms, process_survived: pi.result !== undefined, retries: null });
    }
  }
  if (o.bullmq) rows.push(...o.bullmq.containment);
  return rows;
}

export { runBullmq };
