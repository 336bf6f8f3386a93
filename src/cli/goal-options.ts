/** Options of `agentos repair` and `agentos run --goal`: parsed with node:util, validated with zod. */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BOUNDS, DEFAULTS } from '../config/defaults.js';
import { intFlag } from '../config/int-flag.js';
import { InputError } from '../errors.js';
import { parseInjection } from './run-options.js';
import type { GoalRunOptions } from './goal-command.js';

export const REPAIR_USAGE = `usage: agentos repair <repo> [options]
  --test-cmd CMD        the test command (default: the repo's npm test, else node --test)
  --out DIR             where patch.diff, report.md and run-report.json go (default: <run dir>/out)
  --apply               apply a confirmed fix to <repo> with patch -p1 (otherwise <repo> is never modified)
  --apply-plausible     apply the best patch even when it is only plausible (passes the tests, not confirmed)
  --max-candidates N|auto  single-edit candidates to test at most (default auto: grows with the search space)
  --candidate-timeout-ms N  time limit of one candidate's test run (default: 4 x the baseline run + 2 s)
  --candidate-memory-mb N   memory quota of one candidate's test run (default: test_agent's memory_mb)
  --concurrency N       most attempts at once; the resource monitor moves between ${DEFAULTS.goalMinConcurrency} and N (default ${DEFAULTS.goalConcurrency})
  --inject A:FAULT[@N]  fault injection, as for agentos run
  --agents DIR          add an agent directory
  --runs-dir DIR        parent of the run directory (default ${DEFAULTS.runsDir})
  --no-sandbox          run agents without their agent.yaml sandbox
  --json | --quiet`;

export const GOAL_USAGE = `usage: agentos run --goal "TEXT" [--repo PATH] [options of agentos repair]
  goals: repair/fix (a failing test suite), scan/analyse (an inventory), report (scan + tests)`;

const common = {
  'test-cmd': { type: 'string' },
  out: { type: 'string' },
  apply: { type: 'boolean' },
  'apply-plausible': { type: 'boolean' },
  'max-candidates': { type: 'string' },
  'candidate-timeout-ms': { type: 'string' },
  'candidate-memory-mb': { type: 'string' },
  concurrency: { type: 'string' },
  inject: { type: 'string', multiple: true },
  agents: { type: 'string', multiple: true },
  'runs-dir': { type: 'string' },
  'no-sandbox': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

const int = intFlag;

const schema = z.object({
  goal: z.string().min(1, '--goal needs some text, e.g. --goal "fix the failing tests in examples/buggy_math"'),
  repo: z.string().min(1),
  testCmd: z.string().min(1, '--test-cmd must not be empty').optional(),
  out: z.string().min(1).optional(),
  apply: z.boolean().default(false),
  applyPlausible: z.boolean().default(false),
  maxCandidates: z.union([z.literal('auto'), int('--max-candidates', 1, 800)]).default('auto'),
  candidateTimeoutMs: int('--candidate-timeout-ms', 100, 3_600_000).optional(),
  candidateMemoryMb: int('--candidate-memory-mb', 16, 1_000_000).optional(),
  concurrency: int('--concurrency', BOUNDS.goalConcurrency.min, BOUNDS.goalConcurrency.max).default(DEFAULTS.goalConcurrency),
  inject: z.array(z.string()).default([]),
  agents: z.array(z.string()).default([]),
  runsDir: z.string().default(DEFAULTS.runsDir),
  sandbox: z.boolean().default(true),
  json: z.boolean().default(false),
  quiet: z.boolean().default(false),
});

function parse(argv: string[], usage: string, extra: Record<string, { type: 'string' }>): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...common, ...extra } });
    return { values: r.values as Record<string, unknown>, positionals: r.positionals };
  } catch (err) {
    throw new InputError('E_USAGE', `${(err as Error).message}\n${usage}`);
  }
}

function finish(raw: Record<string, unknown>, usage: string): GoalRunOptions {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new InputError('E_USAGE', `${parsed.error.issues[0]!.message}\n${usage}`);
  const d = parsed.data;
  return {
    goal: d.goal,
    repo: d.repo,
    testCmd: d.testCmd,
    out: d.out,
    apply: d.apply,
    applyPlausible: d.applyPlausible,
    maxCandidates: d.maxCandidates,
    candidateTimeoutMs: d.candidateTimeoutMs,
    candidateMemoryMb: d.candidateMemoryMb,
    concurrency: d.concurrency,
    injections: d.inject.map(parseInjection),
    agents: d.agents,
    runsDir: d.runsDir,
    sandbox: d.sandbox,
    json: d.json,
    quiet: d.quiet,
  };
}

function common2(values: Record<string, unknown>) {
  return {
    testCmd: values['test-cmd'],
    out: values.out,
    apply: values.apply,
    applyPlausible: values['apply-plausible'],
    maxCandidates: values['max-candidates'],
    candidateTimeoutMs: values['candidate-timeout-ms'],
    candidateMemoryMb: values['candidate-memory-mb'],
    concurrency: values.concurrency,
    inject: values.inject,
    agents: values.agents,
    runsDir: values['runs-dir'],
    sandbox: values['no-sandbox'] === true ? false : undefined,
    json: values.json,
    quiet: values.quiet,
  };
}

export function parseRepairOptions(argv: string[]): GoalRunOptions & { kind: 'repair' } {
  const { values, positionals } = parse(argv, REPAIR_USAGE, {});
  if (positionals.length !== 1) throw new InputError('E_USAGE', `agentos repair takes one repository directory, got ${positionals.length}${positionals.length ? `: ${positionals.join(' ')}` : ''}\n${REPAIR_USAGE}`);
  const repo = positionals[0]!;
  return { ...finish({ goal: `repair the failing tests in ${repo}`, repo, ...common2(values) }, REPAIR_USAGE), kind: 'repair' };
}

export function parseGoalOptions(argv: string[]): GoalRunOptions {
  const { values, positionals } = parse(argv, GOAL_USAGE, { goal: { type: 'string' }, repo: { type: 'string' } });
  if (positionals.length > 0) throw new InputError('E_USAGE', `agentos run --goal takes no plan file (got ${positionals.join(' ')})\n${GOAL_USAGE}`);
  const goal = typeof values.goal === 'string' ? values.goal : '';
  // The repository: --repo, else a path named in the goal that exists, else the current directory.
  const named = goal.split(/\s+/).map((w) => w.replace(/^["'`]|["'`.,;:]$/g, '')).find((w) => w.includes('/') || w === '.');
  const repo = typeof values.repo === 'string' ? values.repo : named ?? '.';
  return finish({ goal, repo, ...common2(values) }, GOAL_USAGE);
}
