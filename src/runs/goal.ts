/**
 * Preparing a goal run: the goal is classified (repair, scan, report), the repository checked and - for
 * anything that might change files - copied into the run directory; the plan is one `plan` task on the
 * planner agent, which turns the goal into a DAG inside the run (ctx.spawn). Used by `agentos repair`,
 * `agentos run --goal`, `agentos demo` (cli/goal-command.ts) and the dashboard's page runs (planning/).
 * Scans read the repository in place (read-only, through the sandbox).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { DEFAULTS } from '../config/defaults.js';
import type { AgentRegistry } from '../config/registry.js';
import type { Plan } from '../config/plan.js';
import { InputError } from '../errors.js';
import type { KernelOptions } from '../kernel/kernel.js';
import { classifyGoal, type GoalKind } from '../repair/planner.js';
import { copyRepo, defaultTestCmd } from '../repair/repo.js';
import { shardTopLevel } from '../repair/scan.js';
import type { Injection } from '../scheduler/scheduler.js';
import { checkInjections, loadAgents } from './prepare.js';

/** What a goal run needs before its kernel exists (shared by the CLI's runGoal and the dashboard's page runs). */
export interface GoalSetup {
  goal: string;
  kind?: GoalKind | undefined;
  repo: string;
  /** Work on a copy even for scans and reports (the dashboard's default repository). @default false */
  alwaysCopy?: boolean;
  testCmd?: string | undefined;
  out?: string | undefined;
  /** Single-edit candidates tested at most, or `auto` (the budget grows with the search space). */
  maxCandidates: number | 'auto';
  candidateTimeoutMs?: number | undefined;
  candidateMemoryMb?: number | undefined;
  agents: string[];
  injections: Injection[];
  runsDir: string;
  concurrency: number;
  sandbox: boolean;
  /** How the goal is named in error messages ('--goal' on the command line, 'goal' on the page). @default '--goal' */
  goalLabel?: string;
}

export interface PreparedGoalRun {
  /** The resolved source repository. */
  repo: string;
  kind: GoalKind | undefined;
  runId: string;
  runDir: string;
  out: string;
  /** The working copy (repairs, or alwaysCopy), made by prepareGoalRun; undefined: read in place. */
  workRepo: string | undefined;
  registry: AgentRegistry;
  /** Kernel options of the run (registry, run id, injections, sandbox, sandbox vars, resource monitor). */
  kernel: Omit<KernelOptions, 'runsDir'>;
  /** One `plan` task on the planner agent; its output lists the tasks it spawns. */
  plan: Plan;
}

/**
 * Checks the goal and repository, classifies the goal, picks the run id and copies the repository into
 * the run directory when the run works on a copy. Throws InputError (with the fix) on bad input.
 */
export function prepareGoalRun(o: GoalSetup): PreparedGoalRun {
  const repo = resolve(o.repo);
  if (!existsSync(repo) || !statSync(repo).isDirectory()) {
    throw new InputError('E_FILE_NOT_FOUND', `${o.repo}: repository directory not found. Fix: pass the path of a directory.`, { file: o.repo });
  }
  const registry = loadAgents(o.agents);
  checkInjections(registry, o.injections);
  const kind = o.kind ?? classifyGoal(o.goal);
  if (kind === undefined && !process.env.AGENTOS_LLM_BASE_URL) {
    throw new InputError('E_USAGE', `${o.goalLabel ?? '--goal'} '${o.goal}': cannot tell what to do. Fix: say what you want - repair/fix (failing tests), scan/analyse (an inventory) or report - or configure a model (AGENTOS_LLM_BASE_URL) to classify goals.`);
  }
  const runId = randomBytes(3).toString('hex');
  const runDir = resolve(o.runsDir, runId);
  const out = o.out ? resolve(o.out) : join(runDir, 'out');
  // Anything that might change files works on a copy; only scans and reports read the original.
  const onCopy = o.alwaysCopy === true || (kind !== 'scan' && kind !== 'report');
  const workRepo = onCopy ? join(runDir, 'work', 'repo') : undefined;
  const testCmd = o.testCmd ?? defaultTestCmd(repo);
  if (workRepo) copyRepo(repo, workRepo);
  const target = workRepo ?? repo;
  // The kernel's WORK variable (its default: <run dir>/work).
  const work = join(runDir, 'work');
  const kernel: Omit<KernelOptions, 'runsDir'> = {
    registry,
    runId,
    concurrency: o.concurrency,
    injections: o.injections,
    sandbox: o.sandbox,
    sandboxVars: { TARGET: target, OUT: out },
    // At least 2 attempts at once (a search task parked in ctx.wait lends its slot to its candidates).
    monitor: { min: DEFAULTS.goalMinConcurrency, max: Math.max(DEFAULTS.goalMinConcurrency, o.concurrency), intervalMs: DEFAULTS.goalMonitorIntervalMs },
  };
  // The journal's header keeps what a resume needs to go on like this kernel (runs/resume.ts reads it back).
  kernel.journal = {
    options: {
      injections: o.injections,
      goal: o.goal,
      repair: { kind: kind ?? null, repo, workRepo: workRepo ?? null, testCmd, maxCandidates: o.maxCandidates, sandboxVars: kernel.sandboxVars, monitor: kernel.monitor },
      out,
    },
  };
  const plan: Plan = {
    name: `goal:${kind ?? 'unknown'}`,
    description: o.goal,
    tasks: [
      {
        id: 'plan',
        agent: 'planner',
        deps: [],
        input: { goal: o.goal, kind, context: { repo: target, work, out, testCmd, startedAt: Date.now(), maxCandidates: o.maxCandidates, candidateTimeoutMs: o.candidateTimeoutMs, candidateMemoryMb: o.candidateMemoryMb, shards: kind === 'scan' ? shardTopLevel(target, 3) : [] } },
      },
    ],
  };
  return { repo, kind, runId, runDir, out, workRepo, registry, kernel, plan };
}

/** Apply a repair's patch to the original repository (`patch -p1 --forward`); `output` says why it failed. */
export async function applyPatch(repo: string, patchFile: string): Promise<{ ok: boolean; output: string }> {
  const r = await execa('patch', ['-p1', '--forward', '-i', patchFile], { cwd: repo, reject: false, all: true });
  return { ok: r.exitCode === 0, output: r.all ?? '' };
}
