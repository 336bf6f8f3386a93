/**
 * `agentos resume <run-dir | run-id>`: take over a run whose kernel stopped or died, from its journal
 * (runs/resume.ts refuses a live, complete or changed run with exit 2), run what is left, and write one
 * report covering the whole run. Exit codes as for `agentos run`. A goal or repair run is finished as
 * `run --goal`/`repair` would have: its report in --out, the outcome printed, --apply honoured (all
 * from the journal's header).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../config/defaults.js';
import { InputError } from '../errors.js';
import { Kernel } from '../kernel/kernel.js';
import type { RunHeader } from '../journal/facts.js';
import { writeReport, type RunReport } from '../observe/report.js';
import type { GoalKind } from '../repair/planner.js';
import { runExit } from '../runs/exit-codes.js';
import type { Io } from '../runs/io.js';
import { prepareResume } from '../runs/resume.js';
import { abnormalExit, runKernel } from '../runs/run-kernel.js';
import { abortOn } from '../runs/signals.js';
import { finishGoal, type GoalFinish } from './goal-command.js';
import { attachProgress, summary } from './render.js';

export const RESUME_USAGE = `usage: agentos resume <run-dir | run-id> [options]
  Continue a run whose kernel stopped (Ctrl-C, SIGTERM) or died (SIGKILL, OOM, reboot) from its journal:
  succeeded tasks keep their outputs and never run again; attempts in flight re-run (recorded as
  'interrupted'); one report covers the whole run (docs/durability.md).
  --runs-dir DIR        where run ids are looked up (default ${DEFAULTS.runsDir})
  --agents DIR          agent directory (repeatable; default: the ones the run used)
  --allow-changed       go on although the plan or an agent's files changed since the run started
  --report FILE         also write the report there
  --json                print the report as JSON on stdout (progress on stderr)
  --quiet               no progress lines
  Refused (exit 2): a run still held by a live kernel, a complete run, a changed plan or agent.`;

export interface ResumeCommandOptions {
  run: string;
  runsDir: string;
  agents: string[];
  allowChanged: boolean;
  report?: string | undefined;
  json: boolean;
  quiet: boolean;
}

export function parseResumeOptions(argv: string[]): ResumeCommandOptions {
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'runs-dir': { type: 'string' },
        agents: { type: 'string', multiple: true },
        'allow-changed': { type: 'boolean' },
        report: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new InputError('E_USAGE', `${(err as Error).message}\n${RESUME_USAGE}`);
  }
  if (positionals.length !== 1) throw new InputError('E_USAGE', `agentos resume takes one run directory or run id, got ${positionals.length}.\n${RESUME_USAGE}`);
  return {
    run: positionals[0]!,
    runsDir: (values['runs-dir'] as string | undefined) ?? DEFAULTS.runsDir,
    agents: (values.agents as string[] | undefined) ?? [],
    allowChanged: values['allow-changed'] === true,
    report: values.report as string | undefined,
    json: values.json === true,
    quiet: values.quiet === true,
  };
}

/** A goal or repair run's options from its journal header: how to finish it as `run --goal`/`repair` would. */
function goalOf(h: RunHeader, o: ResumeCommandOptions): GoalFinish | undefined {
  const r = h.options.repair;
  if (h.options.goal === null || r === null || typeof r.repo !== 'string' || h.options.out === null) return undefined;
  const kind = typeof r.kind === 'string' ? (r.kind as GoalKind) : undefined;
  return { repo: r.repo, kind, out: h.options.out, apply: h.options.apply, applyPlausible: r.applyPlausible === true, json: o.json, quiet: o.quiet };
}

export async function resumeCommand(o: ResumeCommandOptions, io: Io): Promise<{ code: number; report: RunReport }> {
  const prep = prepareResume({ run: o.run, runsDir: o.runsDir, agents: o.agents, allowChanged: o.allowChanged });
  const goal = goalOf(prep.state.header, o);
  const progress = o.json ? io.err : io.out;
  let kernel: Kernel;
  try {
    kernel = new Kernel(prep.kernel);
  } catch (err) {
    await prep.release();
    throw err;
  }
  if (prep.changed.length > 0) io.err(`agentos resume: --allow-changed: going on with changed files: ${prep.changed.join('; ')}`);
  const left = [...prep.state.tasks.values()].filter((t) => t.status !== 'succeeded').length;
  progress(`agentos resume: run ${prep.runId} in ${prep.runDir}: ${prep.state.tasks.size - left} of ${prep.state.tasks.size} task(s) succeeded before; taking over (pid ${process.pid})`);
  const detach = o.quiet ? undefined : attachProgress(kernel.events, progress);
  const ctl = new AbortController();
  const signals = abortOn(ctl);
  let report: RunReport;
  try {
    // A goal run's report also goes where the first kernel put it (--out), as if it had never stopped.
    report = await runKernel(kernel, prep.plan, { signal: ctl.signal, reportFile: goal ? join(goal.out, 'run-report.json') : o.report });
  } finally {
    signals.remove();
    detach?.();
  }
  if (goal && o.report) writeReport(o.report, report);
  if (goal) return { code: (await finishGoal(kernel, report, goal, signals.signalled(), io)).code, report };
  if (o.json) io.out(JSON.stringify(report, null, 2));
  else if (!o.quiet) for (const line of summary(report)) io.out(line);
  const abnormal = abnormalExit(kernel, signals.signalled(), io);
  return { code: abnormal ?? runExit(report, signals.signalled()), report };
}
