/** `agentos run` options: parsed with node:util, validated with zod, every error naming the flag. */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BOUNDS, DEFAULTS } from '../config/defaults.js';
import { intFlag } from '../config/int-flag.js';
import { DEFAULT_MAX_PLAN_BYTES, DEFAULT_MAX_PLAN_TASKS } from '../config/plan.js';
import { InputError } from '../errors.js';
import { FAULTS } from '../protocol/messages.js';
import type { Injection } from '../scheduler/scheduler.js';
import { parseHost, takeOptionalPort } from './port-flags.js';

export { parseInjection } from '../runs/injection.js';
import { parseInjection } from '../runs/injection.js';

export const runOptionsSchema = z.object({
  plan: z.string({ error: 'agentos run needs a plan file: agentos run <plan.yaml>' }).min(1),
  agents: z.array(z.string()).default([]),
  concurrency: intFlag('--concurrency', BOUNDS.concurrency.min, BOUNDS.concurrency.max).default(DEFAULTS.concurrency),
  inject: z.array(z.string()).default([]),
  report: z.string().optional(),
  json: z.boolean().default(false),
  runsDir: z.string().default(DEFAULTS.runsDir),
  sampleMs: intFlag('--sample-ms', BOUNDS.sampleMs.min, BOUNDS.sampleMs.max).default(DEFAULTS.sampleMs),
  quiet: z.boolean().default(false),
  maxPlanTasks: intFlag('--max-plan-tasks', 1, 100_000_000).optional(),
  maxPlanBytes: intFlag('--max-plan-bytes', 1, Number.MAX_SAFE_INTEGER).optional(),
});

export type RunOptions = z.output<typeof runOptionsSchema> & {
  injections: Injection[];
  /** --dashboard [PORT]: serve the live dashboard (0: a free port). */
  dashboard?: number | undefined;
  /** --metrics [PORT]: serve Prometheus /metrics on 127.0.0.1. */
  metrics?: number | undefined;
  /** --host: where the dashboard listens (a token is required on every host). */
  host?: string;
};

export const RUN_USAGE = `usage: agentos run <plan.yaml> [options]
  --agents DIR          add an agent directory (repeatable; searched after the built-in agents/)
  --concurrency N       most attempts running at once (default ${DEFAULTS.concurrency}: 2 x cores, at least 4)
  --inject A:FAULT[@N]  make agent A commit FAULT on its N-th attempt of a task (every attempt without @N);
                        faults: ${FAULTS.join(', ')}
  --report FILE         also write the run report there
  --json                print the report as JSON on stdout (progress goes to stderr)
  --runs-dir DIR        parent of the run directory (default ${DEFAULTS.runsDir})
  --sample-ms N         quota sampler period (default ${DEFAULTS.sampleMs})
  --quiet               no progress lines
  --max-plan-tasks N    refuse a plan listing more tasks (default ${DEFAULT_MAX_PLAN_TASKS})
  --max-plan-bytes N    refuse a plan file larger than N bytes (default ${DEFAULT_MAX_PLAN_BYTES})
  --dashboard [PORT]    serve the live dashboard on 127.0.0.1 (PORT 0 or none: a free port; the URL is
                        printed); it stays up after the run until Ctrl-C, and can start further runs
  --host HOST           listen there instead of 127.0.0.1 (the printed URL carries the token either way)
  --metrics [PORT]      serve Prometheus text metrics at http://127.0.0.1:PORT/metrics`;

export function parseRunOptions(argvIn: string[]): RunOptions {
  const dash = takeOptionalPort(argvIn, '--dashboard');
  const met = takeOptionalPort(dash.rest, '--metrics');
  const argv = met.rest;
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        agents: { type: 'string', multiple: true },
        concurrency: { type: 'string' },
        inject: { type: 'string', multiple: true },
        report: { type: 'string' },
        json: { type: 'boolean' },
        'runs-dir': { type: 'string' },
        'sample-ms': { type: 'string' },
        quiet: { type: 'boolean' },
        'max-plan-tasks': { type: 'string' },
        'max-plan-bytes': { type: 'string' },
        host: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new InputError('E_USAGE', `${(err as Error).message}\n${RUN_USAGE}`);
  }
  if (positionals.length > 1) throw new InputError('E_USAGE', `agentos run takes one plan file, got ${positionals.length}: ${positionals.join(' ')}\n${RUN_USAGE}`);
  const parsed = runOptionsSchema.safeParse({
    plan: positionals[0],
    agents: values.agents,
    concurrency: values.concurrency,
    inject: values.inject,
    report: values.report,
    json: values.json,
    runsDir: values['runs-dir'],
    sampleMs: values['sample-ms'],
    quiet: values.quiet,
    maxPlanTasks: values['max-plan-tasks'],
    maxPlanBytes: values['max-plan-bytes'],
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError('E_USAGE', `${issue.message}\n${RUN_USAGE}`);
  }
  const host = parseHost(values.host as string | undefined);
  if (values.host !== undefined && dash.port === undefined) throw new InputError('E_USAGE', `--host only applies to --dashboard; add --dashboard [PORT].\n${RUN_USAGE}`);
  return { ...parsed.data, injections: parsed.data.inject.map(parseInjection), dashboard: dash.port, metrics: met.port, host };
}
