/**
 * Turning a goal typed on the dashboard into a plan. The interface is what a real goal-based planner
 * implements later; until then CrashDemoPlanner answers every goal with the crash demo's repair
 * workflow (examples/crash-demo/plan.yaml), the goal passed to its `plan` task, and the demo's fault
 * injections when asked for.
 */
import { join } from 'node:path';
import { loadPlanFile, type Plan } from '../config/plan.js';
import type { AgentRegistry } from '../config/registry.js';
import { EXAMPLES } from '../paths.js';
import type { Injection } from '../scheduler/scheduler.js';

export interface PlannedRun {
  plan: Plan;
  injections: Injection[];
}

export interface GoalPlanner {
  /** A checked plan for the goal (may throw an InputError: the page shows its message). */
  plan(goal: string, opts: { injectFaults: boolean }): Promise<PlannedRun>;
}

/** The demo's faults: patch_agent aborts and test_agent hangs on their first attempts. */
export const DEMO_INJECTIONS: readonly Injection[] = [
  { agent: 'patch_agent', fault: 'crash', attempt: 1 },
  { agent: 'test_agent', fault: 'hang', attempt: 1 },
];

export class CrashDemoPlanner implements GoalPlanner {
  constructor(
    private readonly registry: AgentRegistry,
    private readonly planFile = join(EXAMPLES, 'crash-demo', 'plan.yaml'),
  ) {}

  async plan(goal: string, opts: { injectFaults: boolean }): Promise<PlannedRun> {
    const plan = loadPlanFile(this.planFile, this.registry);
    const tasks = plan.tasks.map((t) => (t.id === 'plan' ? { ...t, input: { ...(t.input as object | undefined), goal } } : t));
    return { plan: { ...plan, tasks }, injections: opts.injectFaults ? [...DEMO_INJECTIONS] : [] };
  }
}
