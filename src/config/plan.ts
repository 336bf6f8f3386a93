/**
 * plan.yaml: a named DAG of tasks. Validation is complete before anything starts: schema, duplicate ids,
 * unknown agents and dependencies, cycles (listing their tasks), and every agent's spec and handler.
 */
import { z } from 'zod';
import { findCycle, formatCycle } from '../lib/graph.js';
import { countPlanTasks } from './plan-count.js';
import { ProblemList, InputProblems, type Problem } from './problems.js';
import type { AgentRegistry } from './registry.js';
import { readYamlFile, schemaProblems, type YamlSource } from './yaml-file.js';

export { findCycle, formatCycle };

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

/** Default size limits of a plan file (docs/plans.md); `agentos run --max-plan-tasks/--max-plan-bytes` raise them. */
export const DEFAULT_MAX_PLAN_TASKS = 100_000;
export const DEFAULT_MAX_PLAN_BYTES = 8 * 1024 * 1024;

export interface PlanLimits {
  /** Most tasks a plan file may list. @default DEFAULT_MAX_PLAN_TASKS */
  maxTasks?: number | undefined;
  /** Largest plan file, in bytes, checked before it is read. @default DEFAULT_MAX_PLAN_BYTES */
  maxBytes?: number | undefined;
}

/**
 * Read, validate and check a plan file and every agent it uses. Every problem found is reported at
 * once (InputProblems, exit 2): YAML, schema, graph (ids, agents, deps, cycles), then the agents' files.
 * A file over a size limit is refused first (E_TOO_LARGE). Nothing starts before this returns.
 */
export function loadPlanFile(file: string, registry: AgentRegistry, limits: PlanLimits = {}): Plan {
  const maxTasks = limits.maxTasks ?? DEFAULT_MAX_PLAN_TASKS;
  const tooMany = (count: number, line: number | undefined, col: number | undefined): InputProblems =>
    new InputProblems([{ code: 'E_TOO_LARGE', file, line, col, message: `plan has ${count} tasks, over the limit of ${maxTasks}. Fix: split it, or raise the limit with --max-plan-tasks (docs/plans.md).` }]);
  // Counted before the parse: a multi-MiB plan over the limit is refused in milliseconds, not seconds.
  const precheck = (text: string): void => {
    const counted = countPlanTasks(text);
    if (counted && counted.count > maxTasks) throw tooMany(counted.count, counted.line, counted.col);
  };
  const source = readYamlFile(file, 'plan', { maxBytes: limits.maxBytes ?? DEFAULT_MAX_PLAN_BYTES, maxBytesFlag: '--max-plan-bytes', precheck });
  const rawTasks = (source.data as { tasks?: unknown } | null)?.tasks;
  if (Array.isArray(rawTasks) && rawTasks.length > maxTasks) {
    const pos = source.posOf(['tasks']);
    throw tooMany(rawTasks.length, pos?.line, pos?.col);
  }
  const res = schemaProblems(source, planSchema, 'plan', HINT);
  const problems = new ProblemList();
  if ('problems' in res) {
    for (const p of res.problems) problems.add(p);
    // Check the graph of the tasks that are well formed too, so their problems come in the same report.
    if (Array.isArray(rawTasks)) {
      const tasks = rawTasks.map((t) => taskSpecSchema.safeParse(t)).map((r) => (r.success ? r.data : undefined));
      graphProblems(tasks, registry, problems, source);
    }
    problems.throwIfAny();
  }
  const plan = (res as { data: Plan }).data;
  checkPlan(plan, registry, source, problems);
  return plan;
}

/**
 * Graph checks shared by plan files and plans built in code: duplicate ids, unknown agents and
 * dependencies, cycles, then every agent the plan can reach (fallbacks included) is loaded, so a bad
 * agent.yaml stops the run before any process starts. Throws InputProblems listing every problem.
 */
export function checkPlan(plan: Plan, registry: AgentRegistry, source?: YamlSource, problems = new ProblemList()): void {
  graphProblems(plan.tasks, registry, problems, source);
  const agents = new Set(plan.tasks.map((t) => t.agent).filter((a) => registry.has(a)));
  try {
    registry.validate(agents);
  } catch (err) {
    problems.addError(err);
  }
  problems.throwIfAny();
}

/** Problems of the task graph; `undefined` entries are tasks the schema refused (already reported). */
function graphProblems(tasks: ReadonlyArray<TaskSpec | undefined>, registry: AgentRegistry, problems: ProblemList, source?: YamlSource): void {
  const file = source?.file ?? `plan`;
  const add = (code: Problem['code'], path: PropertyKey[] | undefined, message: string): void => {
    const pos = path && source?.posOf(path);
    problems.add({ code, file, line: pos?.line, col: pos?.col, message });
  };
  const ids = new Map<string, number>();
  tasks.forEach((t, i) => {
    if (!t) return;
    const first = ids.get(t.id);
    if (first !== undefined) add('E_DUPLICATE_TASK', ['tasks', i, 'id'], `duplicate task id '${t.id}' (also task #${first + 1}). Fix: give every task its own id.`);
    else ids.set(t.id, i);
  });
  // Ids of tasks the schema refused still exist: a dependency on them is not "unknown".
  const rawIds = new Set(ids.keys());
  const raw = (source?.data as { tasks?: unknown } | undefined)?.tasks;
  if (Array.isArray(raw)) for (const r of raw) if (typeof (r as { id?: unknown } | null)?.id === 'string') rawIds.add((r as { id: string }).id);
  let known: string | undefined;
  tasks.forEach((t, i) => {
    if (!t) return;
    if (!registry.has(t.agent)) {
      known ??= registry.names().join(', ') || 'none';
      add('E_UNKNOWN_AGENT', ['tasks', i, 'agent'], `task '${t.id}' names unknown agent '${t.agent}' (known: ${known}). Fix: use one of those or add its directory with --agents DIR.`);
    }
    t.deps.forEach((d, j) => {
      if (!rawIds.has(d)) add('E_UNKNOWN_DEPENDENCY', ['tasks', i, 'deps', j], `task '${t.id}' depends on unknown task '${d}'. Fix: use the id of a task in this plan.`);
      else if (d === t.id) add('E_CYCLE', ['tasks', i, 'deps', j], `task '${t.id}' depends on itself. Fix: remove it from its own deps.`);
    });
  });
  // Self-dependencies are reported above; look for longer cycles among the rest.
  const wellFormed = tasks.filter((t): t is TaskSpec => t !== undefined).map((t) => ({ id: t.id, deps: t.deps.filter((d) => d !== t.id) }));
  const cycle = findCycle(wellFormed);
  if (cycle) {
    const at = ids.get(cycle[0]!);
    add('E_CYCLE', at === undefined ? undefined : ['tasks', at, 'deps'], `dependency cycle: ${formatCycle(cycle)}. Fix: remove one of these dependencies.`);
  }
}
