/** `agentos stress` options: parsed with node:util, validated with zod; every error names the flag. */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BOUNDS, DEFAULTS } from '../config/defaults.js';
import { intFlag } from '../config/int-flag.js';
import { InputError } from '../errors.js';
import { FAULTS, type Fault } from '../protocol/messages.js';

/** Faults a stress run may inject: each one makes the attempt fail (garbage does not, so it is left out). */
export const STRESS_FAULTS = FAULTS.filter((f) => f !== 'garbage');

const int = intFlag;

const num = (flag: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${flag} takes a number` })
    .refine((n) => Number.isFinite(n), `${flag} takes a number`)
    .pipe(z.number().min(min, `${flag} must be at least ${min}`).max(max, `${flag} must be at most ${max}`));

export const stressOptionsSchema = z.object({
  /** Agent processes started at once (instances of stress_worker). Capped by agent.yaml's instances limit. */
  agents: int('--agents', 1, 256),
  tasks: int('--tasks', 1, 1_000_000),
  /** Fraction of tasks whose first attempt commits a fault. @default 0 */
  faultRate: num('--fault-rate', 0, 1).default(0),
  faults: z
    .string()
    .default('crash,hang,oom,throw')
    .transform((s, ctx) => {
      const list = s.split(',').map((f) => f.trim()).filter(Boolean);
      const bad = list.filter((f) => !(STRESS_FAULTS as readonly string[]).includes(f));
      if (list.length === 0 || bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `--faults '${s}': expected a comma-separated list of ${STRESS_FAULTS.join(', ')}` });
        return z.NEVER;
      }
      return [...new Set(list)] as Fault[];
    }),
  report: z.string().min(1, '--report needs a file name').optional(),
  /** CPU spin of a CPU task. @default 2 */
  cpuMs: num('--cpu-ms', 0, 60_000).default(2),
  /** Timer wait of a waiting task. @default 10 */
  waitMs: num('--wait-ms', 0, 60_000).default(10),
  /** Share of tasks that spin the CPU (the rest wait). @default 0.5 */
  cpuShare: num('--cpu-share', 0, 1).default(0.5),
  /** Per-attempt limit; also how long a hang costs. @default 1000 */
  timeoutMs: int('--timeout-ms', 50, 600_000).default(1000),
  /** Attempts per task, the first included. @default 3 */
  maxAttempts: int('--max-attempts', 1, 100).default(3),
  /** Heap limit and RSS quota of each agent. @default 96 */
  memoryMb: int('--memory-mb', 32, 16_384).default(96),
  seed: int('--seed', 0, 2 ** 31 - 1).default(1),
  runsDir: z.string().default(DEFAULTS.runsDir),
  sampleMs: int('--sample-ms', BOUNDS.sampleMs.min, BOUNDS.sampleMs.max).default(DEFAULTS.sampleMs),
  json: z.boolean().default(false),
  quiet: z.boolean().default(false),
});

export type StressOptions = z.output<typeof stressOptionsSchema>;
export type StressOptionsInput = z.input<typeof stressOptionsSchema>;

export const STRESS_USAGE = `usage: agentos stress --agents N --tasks M [options]
  --agents N          agent processes started at once (1-256)
  --tasks M           tasks to run across them
  --fault-rate R      fraction of tasks whose first attempt commits a fault, 0-1 (default 0)
  --faults LIST       faults to draw from: ${STRESS_FAULTS.join(',')} (default crash,hang,oom,throw)
  --report FILE       write the stress report (JSON) there
  --cpu-ms MS         CPU spin of a CPU task (default 2)
  --wait-ms MS        timer wait of a waiting task (default 10)
  --cpu-share S       share of tasks that spin, the rest wait (default 0.5)
  --timeout-ms MS     per-attempt limit; what a hang costs (default 1000)
  --max-attempts K    attempts per task, the first included (default 3)
  --memory-mb MB      heap limit and RSS quota of each agent (default 96)
  --seed S            seed of the task mix and of which tasks fault (default 1)
  --runs-dir DIR      parent of the run directory (default ${DEFAULTS.runsDir})
  --sample-ms N       quota sampler period (default ${DEFAULTS.sampleMs})
  --json              print the report on stdout (progress goes to stderr)
  --quiet             no progress`;

/** Validate options given in code (benchmarks) the same way as flags. */
export function checkStressOptions(input: StressOptionsInput): StressOptions {
  const parsed = stressOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError('E_USAGE', `${issue.message}\n${STRESS_USAGE}`);
  }
  return parsed.data;
}

export function parseStressOptions(argv: string[]): StressOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        agents: { type: 'string' },
        tasks: { type: 'string' },
        'fault-rate': { type: 'string' },
        faults: { type: 'string' },
        report: { type: 'string' },
        'cpu-ms': { type: 'string' },
        'wait-ms': { type: 'string' },
        'cpu-share': { type: 'string' },
        'timeout-ms': { type: 'string' },
        'max-attempts': { type: 'string' },
        'memory-mb': { type: 'string' },
        seed: { type: 'string' },
        'runs-dir': { type: 'string' },
        'sample-ms': { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new InputError('E_USAGE', `${(err as Error).message}\n${STRESS_USAGE}`);
  }
  for (const flag of ['agents', 'tasks'] as const) {
    if (values[flag] === undefined) throw new InputError('E_USAGE', `--${flag} is required (e.g. agentos stress --agents 10 --tasks 200)\n${STRESS_USAGE}`);
  }
  return checkStressOptions({
    agents: values.agents as unknown as number,
    tasks: values.tasks as unknown as number,
    faultRate: values['fault-rate'] as unknown as number,
    faults: values.faults as string | undefined,
    report: values.report as string | undefined,
    cpuMs: values['cpu-ms'] as unknown as number,
    waitMs: values['wait-ms'] as unknown as number,
    cpuShare: values['cpu-share'] as unknown as number,
    timeoutMs: values['timeout-ms'] as unknown as number,
    maxAttempts: values['max-attempts'] as unknown as number,
    memoryMb: values['memory-mb'] as unknown as number,
    seed: values.seed as unknown as number,
    runsDir: values['runs-dir'] as string | undefined,
    sampleMs: values['sample-ms'] as unknown as number,
    json: values.json as boolean | undefined,
    quiet: values.quiet as boolean | undefined,
  });
}
