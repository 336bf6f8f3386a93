/**
 * Turning a goal typed on the dashboard into a run. RepairGoalPlanner uses the same goal planner as
 * `agentos run --goal` (classifyGoal + the `planner` agent, set up by prepareGoalRun): the goal is
 * classified as repair, scan or report and run against a repository - by default a fresh copy of
 * examples/buggy_math made in each run's directory. An unclassifiable goal throws the planner's
 * InputError, which the page shows (HTTP 400).
 */
import { join } from 'node:path';
import type { Plan } from '../config/plan.js';
import type { KernelOptions } from '../kernel/kernel.js';
import { EXAMPLES } from '../paths.js';
import { classifyGoal, type GoalKind } from '../repair/planner.js';
import type { Injection } from '../scheduler/scheduler.js';
import { prepareGoalRun } from '../runs/goal.js';
import type { HostSettings } from '../runs/host.js';
import { DEFAULTS } from '../config/defaults.js';

export interface PlannedRun {
  plan: Plan;
  injections: Injection[];
  /** Kernel options of this run beyond the host's defaults (registry, run id, sandbox vars, monitor). */
  kernel?: Partial<KernelOptions>;
  /** Where the run report is also written. */
  reportFile?: string;
  kind?: GoalKind | undefined;
}

export interface GoalRequest {
  goal: string;
  injectFaults: boolean;
  /** The repository to work on; undefined: the planner's default. */
  repo?: string | undefined;
}

export interface GoalPlanner {
  /** A checked plan for the goal (may throw an InputError: the page shows its message). */
  plan(req: GoalRequest, host: HostSettings): Promise<PlannedRun>;
}

/** The repository a page run works on when none is given (always on a copy). */
export const DEFAULT_GOAL_REPO = join(EXAMPLES, 'buggy_math');

/**
 * The faults "inject faults" stands for, by goal kind: a repair's patch_agent aborts on its first
 * attempt (as in the crash demo); a scan's or report's analyzer does. (The crash demo's test_agent hang
 * does not apply: the real test_agent's 90 s time limit would only make the page wait.)
 */
export function goalInjections(kind: GoalKind | undefined): Injection[] {
  if (kind === 'repair') return [{ agent: 'patch_agent', fault: 'crash', attempt: 1 }];
  if (kind === 'scan' || kind === 'report') return [{ agent: 'analyzer', fault: 'crash', attempt: 1 }];
  return [];
}

export class RepairGoalPlanner implements GoalPlanner {
  constructor(private readonly opts: { agents: string[]; sandbox?: boolean; maxCandidates?: number | 'auto' } = { agents: [] }) {}

  async plan(req: GoalRequest, host: HostSettings): Promise<PlannedRun> {
    const injections = req.injectFaults ? goalInjections(classifyGoal(req.goal)) : [];
    const p = prepareGoalRun({
      goal: req.goal,
      repo: req.repo ?? DEFAULT_GOAL_REPO,
      // The default repository is the package's own example: never scanned or changed in place.
      alwaysCopy: req.repo === undefined,
      maxCandidates: this.opts.maxCandidates ?? DEFAULTS.maxCandidates,
      agents: this.opts.agents,
      injections,
      runsDir: host.runsDir,
      concurrency: host.concurrency,
      sandbox: this.opts.sandbox ?? true,
      goalLabel: 'goal',
    });
    return { plan: p.plan, injections, kernel: p.kernel, reportFile: join(p.out, 'run-report.json'), kind: p.kind };
  }
}
