/**
 * Runs a goal: the planner agent turns it into a DAG inside the run (ctx.spawn), the CLI prints the
 * plan as soon as it exists, then the agents do the work. Used by `agentos repair`, `agentos run --goal`,
 * `agentos demo` and `agentos demo repo`. A repair always works on a copy of the repository in the run
 * directory; scans read the repository in place (read-only, through the sandbox).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { AgentRegistry } from '../config/registry.js';
import type { Plan } from '../config/plan.js';
import { InputError } from '../errors.js';
import { Kernel, type KernelOptions } from '../kernel/kernel.js';
import type { RunReport } from '../observe/report.js';
import { BUILTIN_AGENTS } from '../paths.js';
import { classifyGoal, type GoalKind } from '../repair/planner.js';
import { copyRepo, defaultTestCmd } from '../repair/repo.js';
import { shardTopLevel } from '../repair/scan.js';
import type { Injection } from '../scheduler/scheduler.js';
import { abnormalExit, runKernel } from './kernel-run.js';
import { summary } from './render.js';
import { EXIT, type Io } from './run-command.js';

export interface GoalRunOptions {
  goal: string;
  kind?: GoalKind | undefined;
  repo: string;
  testCmd?: string | undefined;
  out?: string | undefined;
  apply: boolean;
  maxCandidates: number;
  candidateTimeoutMs?: number | undefined;
  candidateMemoryMb?: number | undefined;
  agents: string[];
  injections: Injection[];
  runsDir: string;
  concurrency: number;
  json: boolean;
  quiet: boolean;
  sandbox: boolean;
}

export interface GoalRunResult {
  code: number;
  report: RunReport;
  kind: GoalKind | undefined;
  /** The report task's output. */
  result: Record<string, unknown> | null;
  out: string;
  workRepo: string | undefined;
}

const bold = (s: string, on: boolean): string => (on ? `\u001b[1m${s}\u001b[0m` : s);

/** What a goal run needs before its kernel exists (shared by the CLI's runGoal and the dashboard's page runs). */
export interface GoalSetup {
  goal: string;
  kind?: GoalKind | undefined;
  repo: string;
  /** Work on a copy even for scans and reports (the dashboard's default repository). @default false */
  alwaysCopy?: boolean;
  testCmd?: string | undefined;
  out?: string | undefined;
  maxCandidates: number;
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
  const registry = new AgentRegistry([BUILTIN_AGENTS, ...o.agents]);
  for (const inj of o.injections) {
    if (!registry.has(inj.agent)) throw new InputError('E_UNKNOWN_AGENT', `--inject names unknown agent '${inj.agent}' (known: ${registry.names().join(', ')}).`);
  }
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
    monitor: { min: 2, max: Math.max(2, o.concurrency), intervalMs: 500 },
  };
  const plan: Plan = {
    name: `goal:${kind ?? 'unknown'}`,
    description: o.goal,
    tasks: [
      {
        id: 'plan',
        agent: 'planner',
        deps: [],
        input: { goal: o.goal, kind, context: { repo: target, work, out, testCmd, maxCandidates: o.maxCandidates, candidateTimeoutMs: o.candidateTimeoutMs, candidateMemoryMb: o.candidateMemoryMb, shards: kind === 'scan' ? shardTopLevel(target, 3) : [] } },
      },
    ],
  };
  return { repo, kind, runId, runDir, out, workRepo, registry, kernel, plan };
}

export async function runGoal(o: GoalRunOptions, io: Io): Promise<GoalRunResult> {
  const { repo, kind, out, workRepo, kernel: kopts, plan } = prepareGoalRun(o);
  const kernel = new Kernel({ ...kopts, runsDir: resolve(o.runsDir) });
  const tty = process.stdout.isTTY === true && !o.json;
  const extra = (write: (l: string) => void) =>
    kernel.events.on((e) => {
      if (e.type === 'task.state' && e.task === 'plan' && e.state === 'succeeded') {
        const p = kernel.scheduler.graph.get('plan')?.output as { kind: string; by: string; tasks: Array<{ id: string; agent: string; deps: string[] }> } | null;
        if (!p) return;
        write('');
        write(bold(`PLAN (${p.kind}, by ${p.by}): ${o.goal}`, tty));
        for (const t of p.tasks) write(`    ${t.id.padEnd(10)} ${t.agent.padEnd(14)} after ${t.deps.join(', ')}`);
        write('');
      }
      if (e.type === 'task.added' && e.dynamic && e.task !== 'plan') {
        const rec = kernel.scheduler.graph.get(e.task);
        const m = (rec?.input as { mutant?: { description?: string } } | null)?.mutant;
        if (m) write(`          + inserted ${e.task} on ${e.agent}: ${m.description ?? ''}`);
      }
      if (e.type === 'task.cancelled') write(`          - cancelled ${e.task} (${e.reason})`);
      if (e.type === 'monitor.decision') write(`          ~ concurrency ${e.from} -> ${e.to} (${e.reason})`);
    });
  io.out(`${bold('agentos', tty)}: goal "${o.goal}" on ${repo}${workRepo ? ` (working copy: ${workRepo})` : ' (read-only)'}`);
  const { report, signalled } = await runKernel(kernel, plan, io, { quiet: o.quiet, json: o.json, reportFile: join(out, 'run-report.json'), extra });
  const result = (kernel.scheduler.graph.get('report')?.output ?? null) as Record<string, unknown> | null;
  const res: GoalRunResult = { code: EXIT.ok, report, kind: (kernel.scheduler.graph.get('plan')?.output as { kind?: GoalKind } | null)?.kind ?? kind, result, out, workRepo };
  if (o.json) io.out(JSON.stringify({ report, result }, null, 2));
  else if (!o.quiet) {
    for (const line of summary(report)) io.out(line);
    const mon = report.resources;
    const last = mon?.samples[mon.samples.length - 1];
    if (last) io.out(`resources: CPU ${last.cpu}%, ${last.mem_free_mb} MiB free, concurrency ${last.concurrency} (${mon!.samples.length} samples, ${mon!.decisions.length} change(s))`);
  }
  const abnormal = abnormalExit(kernel, signalled, io);
  if (abnormal !== undefined) return { ...res, code: abnormal };
  if (res.kind === 'repair') {
    const fixed = result?.fixed === true;
    if (!o.quiet && !o.json) {
      io.out('');
      if (fixed) {
        io.out(bold(`FIXED: ${String(result?.fix)}`, tty));
        io.out(String(result?.diff ?? '').trimEnd());
      } else io.out(bold('NO FIX FOUND', tty));
      io.out(`patch and report: ${out}`);
    }
    if (fixed && o.apply) {
      const r = await execa('patch', ['-p1', '--forward', '-i', join(out, 'patch.diff')], { cwd: repo, reject: false, all: true });
      if (r.exitCode !== 0) {
        io.err(`agentos: --apply: patch -p1 failed in ${repo}: ${r.all ?? ''}`);
        return { ...res, code: EXIT.failed };
      }
      io.out(`applied to ${repo}`);
    }
    return { ...res, code: fixed ? EXIT.ok : EXIT.failed };
  }
  if (!o.quiet && !o.json && result && Array.isArray(result.lines)) {
    io.out('');
    for (const l of result.lines as string[]) io.out(l);
    io.out(`report: ${out}/report.md`);
  }
  return { ...res, code: report.status === 'succeeded' ? EXIT.ok : EXIT.failed };
}
