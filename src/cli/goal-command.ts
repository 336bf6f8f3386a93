/**
 * `agentos repair`, `agentos run --goal`, `agentos demo` and `agentos demo repo`: prepare the goal run
 * (runs/goal.ts), print the plan as soon as the planner made it, run the kernel, print the outcome.
 */
import { join, resolve } from 'node:path';
import { Kernel } from '../kernel/kernel.js';
import type { RunReport } from '../observe/report.js';
import type { GoalKind } from '../repair/planner.js';
import { EXIT } from '../runs/exit-codes.js';
import { applyPatch, prepareGoalRun, type GoalSetup } from '../runs/goal.js';
import type { Io } from '../runs/io.js';
import { abnormalExit, runKernel } from '../runs/run-kernel.js';
import { abortOn } from '../runs/signals.js';
import { attachProgress, summary } from './render.js';

/** A goal run from the command line: the setup plus what the command line adds. */
export type GoalRunOptions = GoalSetup & {
  /** Apply a confirmed fix to the repository (patch -p1). */
  apply: boolean;
  /** Also apply a patch that passes the tests but is only plausible (not confirmed by the differential check). */
  applyPlausible?: boolean;
  json: boolean;
  quiet: boolean;
};

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

/** Lines about the plan, inserted and cancelled tasks and concurrency changes, as they happen. */
function attachGoalLines(kernel: Kernel, goal: string, tty: boolean, write: (l: string) => void): () => void {
  return kernel.events.on((e) => {
    if (e.type === 'task.state' && e.task === 'plan' && e.state === 'succeeded') {
      const p = kernel.scheduler.graph.get('plan')?.output as { kind: string; by: string; tasks: Array<{ id: string; agent: string; deps: string[] }> } | null;
      if (!p) return;
      write('');
      write(bold(`PLAN (${p.kind}, by ${p.by}): ${goal}`, tty));
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
}

export async function runGoal(o: GoalRunOptions, io: Io): Promise<GoalRunResult> {
  const { repo, kind, out, workRepo, kernel: kopts, plan } = prepareGoalRun(o);
  // --apply (and --apply-plausible, with the repair options) are run options like --out: kept in the
  // journal's header, honoured by agentos resume.
  if (kopts.journal) {
    const opts = kopts.journal.options;
    kopts.journal = { ...kopts.journal, options: { ...opts, apply: o.apply, repair: { ...opts?.repair, applyPlausible: o.applyPlausible === true } } };
  }
  const kernel = new Kernel({ ...kopts, runsDir: resolve(o.runsDir) });
  const tty = process.stdout.isTTY === true && !o.json;
  const progress = o.json ? io.err : io.out;
  io.out(`${bold('agentos', tty)}: goal "${o.goal}" on ${repo}${workRepo ? ` (working copy: ${workRepo})` : ' (read-only)'}`);
  const detach = o.quiet ? [] : [attachProgress(kernel.events, progress), attachGoalLines(kernel, o.goal, tty, progress)];
  const ctl = new AbortController();
  const signals = abortOn(ctl, (sig) => kernel.interrupt(sig));
  let report: RunReport;
  try {
    report = await runKernel(kernel, plan, { signal: ctl.signal, reportFile: join(out, 'run-report.json') });
  } finally {
    signals.remove();
    for (const d of detach) d();
  }
  const fin = await finishGoal(kernel, report, { repo, kind, out, apply: o.apply, applyPlausible: o.applyPlausible === true, json: o.json, quiet: o.quiet }, signals.signalled(), io);
  return { ...fin, report, out, workRepo };
}

/** What finishing a goal run needs: from the command line, or from the journal's header when resumed. */
export interface GoalFinish {
  /** The original repository (--apply patches it). */
  repo: string;
  kind: GoalKind | undefined;
  out: string;
  apply: boolean;
  /** Apply a plausible (not confirmed) patch too (--apply-plausible). */
  applyPlausible: boolean;
  json: boolean;
  quiet: boolean;
}

/**
 * After a goal run's kernel ended - a new run or a resumed one (agentos resume): print the report and
 * the outcome, apply a found fix when asked (patch -p1), and say the exit code: as for `run` when the
 * run ended abnormally; a repair exits 0 only with a fix (applied, if --apply); other goals by the status.
 */
export async function finishGoal(kernel: Kernel, report: RunReport, f: GoalFinish, signalled: NodeJS.Signals | undefined, io: Io): Promise<{ code: number; kind: GoalKind | undefined; result: Record<string, unknown> | null }> {
  const tty = process.stdout.isTTY === true && !f.json;
  const result = (kernel.scheduler.graph.get('report')?.output ?? null) as Record<string, unknown> | null;
  const res = { code: EXIT.ok as number, kind: (kernel.scheduler.graph.get('plan')?.output as { kind?: GoalKind } | null)?.kind ?? f.kind, result };
  if (f.json) io.out(JSON.stringify({ report, result }, null, 2));
  else if (!f.quiet) {
    for (const line of summary(report)) io.out(line);
    const mon = report.resources;
    const last = mon?.samples[mon.samples.length - 1];
    if (last) io.out(`resources: CPU ${last.cpu}%, ${last.mem_free_mb} MiB free, concurrency ${last.concurrency} (${mon!.samples.length} samples, ${mon!.decisions.length} change(s))`);
  }
  const abnormal = abnormalExit(kernel, signalled, io);
  if (abnormal !== undefined) return { ...res, code: abnormal };
  if (res.kind === 'repair') {
    const fixed = result?.fixed === true;
    const plausible = result?.plausible === true;
    if (!f.quiet && !f.json) {
      io.out('');
      if (fixed) {
        io.out(bold(`FIXED: ${String(result?.fix)}`, tty));
        io.out(String(result?.diff ?? '').trimEnd());
      } else if (plausible) {
        // Passes the tests, but the differential check did not confirm it: never shown as THE fix.
        io.out(bold(`PLAUSIBLE PATCH (not confirmed as the fix): ${String(result?.fix)}`, tty));
        io.out(`  why not confirmed: ${String(result?.reason ?? '')}`);
        io.out(String(result?.diff ?? '').trimEnd());
      } else io.out(bold('NO FIX FOUND', tty));
      io.out(`patch and report: ${f.out}`);
    }
    if (plausible && f.apply && !f.applyPlausible) io.out('--apply: a plausible patch is not applied (--apply-plausible applies it)');
    if ((fixed && f.apply) || (plausible && f.applyPlausible)) {
      const r = await applyPatch(f.repo, join(f.out, 'patch.diff'));
      if (!r.ok) {
        io.err(`agentos: --apply: patch -p1 failed in ${f.repo}: ${r.output}`);
        return { ...res, code: EXIT.failed };
      }
      io.out(`applied to ${f.repo}`);
    }
    return { ...res, code: fixed ? EXIT.ok : EXIT.failed };
  }
  if (!f.quiet && !f.json && result && Array.isArray(result.lines)) {
    io.out('');
    for (const l of result.lines as string[]) io.out(l);
    io.out(`report: ${f.out}/report.md`);
  }
  return { ...res, code: report.status === 'succeeded' ? EXIT.ok : EXIT.failed };
}
