/**
 * The stress workload: M independent tasks, each either a short CPU spin or a timer wait, and the set of
 * tasks whose first attempt commits a fault. Seeded, so the same flags give the same run.
 */
import type { Plan } from '../config/plan.js';
import type { Fault } from '../protocol/messages.js';
import type { TaskInjection } from '../scheduler/scheduler.js';

/** mulberry32: a tiny, well-mixed 32-bit PRNG; enough for picking tasks, not for secrets. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Workload {
  plan: Plan;
  injections: Map<string, TaskInjection>;
}

export interface WorkloadOptions {
  tasks: number;
  agent: string;
  cpuMs: number;
  waitMs: number;
  cpuShare: number;
  faultRate: number;
  faults: readonly Fault[];
  seed: number;
}

export function taskId(i: number, total: number): string {
  return `t${String(i).padStart(String(total - 1).length, '0')}`;
}

export function buildWorkload(o: WorkloadOptions): Workload {
  const rand = rng(o.seed);
  const tasks = Array.from({ length: o.tasks }, (_, i) => {
    const cpu = rand() < o.cpuShare;
    return { id: taskId(i, o.tasks), agent: o.agent, deps: [] as string[], input: { n: i, cpu_ms: cpu ? o.cpuMs : 0, wait_ms: cpu ? 0 : o.waitMs } };
  });
  // Exactly round(R x M) faulted tasks, chosen by a seeded shuffle, faults dealt round-robin so every
  // listed kind occurs (as evenly as the count allows).
  const faulted = Math.round(o.faultRate * o.tasks);
  const order = tasks.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const injections = new Map<string, TaskInjection>();
  for (let k = 0; k < faulted; k++) injections.set(tasks[order[k]!]!.id, { fault: o.faults[k % o.faults.length]!, attempt: 1 });
  return { plan: { name: 'stress', description: `${o.tasks} stress tasks`, tasks }, injections };
}
