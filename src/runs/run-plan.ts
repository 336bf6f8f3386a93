/**
 * `runPlan()`: running a plan from code, the embedded form of `agentos run`. It validates everything
 * first (bad input throws before any process starts), runs the plan in a kernel in this process and
 * resolves with the run's report once every process it started is gone. It installs no process-wide
 * signal handler: the caller's AbortSignal interrupts the run, which still writes its report.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { BOUNDS, DEFAULTS } from '../config/defaults.js';
import { InputError } from '../errors.js';
import { Kernel } from '../kernel/kernel.js';
import type { RunReport } from '../observe/report.js';
import { parseInjection } from './injection.js';
import { prepareRun } from './prepare.js';
import { runKernel } from './run-kernel.js';

/** Options of {@link runPlan}; every field is optional. */
export interface RunPlanOptions {
  /** Directories of agents (`<dir>/<name>/agent.yaml`), searched after the built-in agents. @default [] */
  agents?: readonly string[];
  /** Parent of the run directory; relative paths resolve against `process.cwd()`. @default '.agentos/runs' */
  runsDir?: string;
  /** Attempts running at once. @default 2 x CPU cores, at least 4 */
  concurrency?: number;
  /** Faults committed inside the agents' processes, as for `--inject`: `AGENT:FAULT[@ATTEMPT]`. @default [] */
  inject?: readonly string[];
  /** Also write the report there. */
  reportFile?: string;
  /** Aborting interrupts the run: running attempts are ended, the rest skipped, the report written. */
  signal?: AbortSignal;
  /** Quota sampler period in ms. @default 250 */
  sampleMs?: number;
}

const optionsSchema = z
  .object({
    agents: z.array(z.string().min(1)).default([]),
    runsDir: z.string().min(1).default(DEFAULTS.runsDir),
    concurrency: z.number().int().min(BOUNDS.concurrency.min).max(BOUNDS.concurrency.max).default(DEFAULTS.concurrency),
    inject: z.array(z.string()).default([]),
    reportFile: z.string().min(1).optional(),
    signal: z.instanceof(AbortSignal).optional(),
    sampleMs: z.number().int().min(BOUNDS.sampleMs.min).max(BOUNDS.sampleMs.max).default(DEFAULTS.sampleMs),
  })
  .strict();

/**
 * Run the plan file `planPath` to its end and resolve with the report (`report.status`: `succeeded`,
 * `failed` or `interrupted`). A task's failure does not reject.
 *
 * Throws (before anything starts) an InputError with a stable `code` for bad input: E_USAGE (options),
 * E_FILE_NOT_FOUND, E_YAML_SYNTAX, E_SCHEMA, E_UNKNOWN_AGENT, E_CYCLE, … (docs/plans.md lists them).
 */
export async function runPlan(planPath: string, options: RunPlanOptions = {}): Promise<RunReport> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new InputError('E_USAGE', `runPlan: option ${i?.path.join('.') || '(options)'}: ${i?.message ?? 'invalid'}`);
  }
  const o = parsed.data;
  const injections = o.inject.map(parseInjection);
  const { registry, plan } = prepareRun({ plan: planPath, agents: o.agents, injections });
  const kernel = new Kernel({ registry, runsDir: resolve(o.runsDir), concurrency: o.concurrency, injections, sampleIntervalMs: o.sampleMs });
  const title = process.title;
  try {
    return await runKernel(kernel, plan, { signal: o.signal, reportFile: o.reportFile });
  } finally {
    // runKernel titles this process after the run; an embedding program keeps its own name.
    process.title = title;
  }
}
