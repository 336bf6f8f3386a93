/**
 * plan.yaml: a named DAG of tasks. Validation is complete before anything starts: schema, duplicate ids,
 * unknown agents and dependencies, cycles (listing their tasks), and every agent's spec and handler.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { AgentRegistry } from './registry.js';
import { readYamlFile, validateYaml, type YamlSource } from './yaml-file.js';

export const taskIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 letters, digits, _ . : -');

export const taskSpecSchema = z
  .object({
    id: taskIdSchema,
    agent: z.string().min(1),
    deps: z.array(taskIdSchema).default([]),
    input: z.unknown().optional(),
  })
  .strict();

export const planSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    tasks: z.array(taskSpecSchema).min(1, 'a plan needs at least one task'),
  })
  .strict();

export type TaskSpec = z.output<typeof taskSpecSchema>;
export type Plan = z.output<typeof planSchema>;

const HINT = 'a plan is `name` plus `tasks: [{ id, agent, deps?, input? }]` (docs/plans.md)';

export function loadPlanFile(file: string, registry: AgentRegistry): Plan {
  const source = readYamlFile(file, 'plan');
  const plan = validateYaml(source, planSchema, 'plan', HINT);
  checkPlan(plan, registry, source);
  return plan;
}

/** Graph checks shared by plan files and plans built in code. */
export function checkPlan(plan: Plan, registry: AgentRegistry, source?: YamlSource): void {
  const file = source?.file ?? `plan '${plan.name}'`;
  const at = (path: PropertyKey[]): string => {
    const line = source?.lineOf(path);
    return line === undefined ? file : `${file}:${line}`;
  };
  const ids = new Map<string, number>();
  plan.tasks.forEach((t, i) => {
    if (ids.has(t.id)) {
      throw new InputError('E_DUPLICATE_TASK', `${at(['tasks', i, 'id'])}: duplicate task id '${t.id}' (also task #${ids.get(t.id)! + 1}). Fix: give every task its own id.`, { file: source?.file });
    }
    ids.set(t.id, i);
  });
  plan.tasks.forEach((t, i) => {
    if (!registry.has(t.agent)) {
      throw new InputError('E_UNKNOWN_AGENT', `${at(['tasks', i, 'agent'])}: task '${t.id}' names unknown agent '${t.agent}' (known: ${registry.names().join(', ') || 'none'}). Fix: use one of those or add its directory with --agents DIR.`, { file: source?.file });
    }
    t.deps.forEach((d, j) => {
      if (!ids.has(d)) {
        throw new InputError('E_UNKNOWN_DEPENDENCY', `${at(['tasks', i, 'deps', j])}: task '${t.id}' depends on unknown task '${d}'. Fix: use the id of a task in this plan.`, { file: source?.file });
      }
      if (d === t.id) {
        throw new InputError('E_CYCLE', `${at(['tasks', i, 'deps', j])}: task '${t.id}' depends on itself. Fix: remove it from its own deps.`, { file: source?.file });
      }
    });
  });
  const cycle = findCycle(plan.tasks);
  if (cycle) {
    throw new InputError('E_CYCLE', `${file}: dependency cycle: ${cycle.join(' -> ')}. Fix: remove one of these dependencies.`, { file: source?.file });
  }
  // Load every agent the plan can reach (fallbacks included) now, so a bad agent.yaml stops the run
  // before any process starts.
  for (const name of new Set(plan.tasks.map((t) => t.agent))) registry.chain(name);
}

/** A cycle as a list of task ids (first repeated at the end), or undefined. Iterative DFS. */
export function findCycle(tasks: ReadonlyArray<{ id: string; deps: readonly string[] }>): string[] | undefined {
  const deps = new Map(tasks.map((t) => [t.id, t.deps]));
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  for (const root of deps.keys()) {
    if (state.has(root)) continue;
    const stack: Array<{ id: string; next: number }> = [{ id: root, next: 0 }];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const list = deps.get(top.id) ?? [];
      if (top.next >= list.length) {
        state.set(top.id, 2);
        stack.pop();
        continue;
      }
      const d = list[top.next++]!;
      const s = state.get(d);
      if (s === 1) {
        const from = stack.findIndex((f) => f.id === d);
        return [...stack.slice(from).map((f) => f.id), d];
      }
      if (s === undefined && deps.has(d)) {
        state.set(d, 1);
        stack.push({ id: d, next: 0 });
      }
    }
  }
  return undefined;
}
