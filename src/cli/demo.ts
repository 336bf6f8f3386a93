/**
 * `agentos demo`: the fault-injection crash demo. The example plan runs over the example agents while
 * patch_agent crashes (abort) and test_agent hangs on their first attempts; the kernel recovers both.
 */
import { join } from 'node:path';
import { EXAMPLES, PACKAGE_ROOT } from '../paths.js';
import { DEFAULTS } from '../config/defaults.js';
import { runGoal } from './goal-command.js';
import { parseInjection } from './run-options.js';
import { runCommand, type Io } from './run-command.js';

export async function crashDemo(args: string[], io: Io): Promise<number> {
  const plan = join(EXAMPLES, 'crash-demo', 'plan.yaml');
  io.out('AgentOS crash demo: every agent below is a real child process (see `ps -eo pid,args | grep agentos`).');
  io.out('  patch_agent will abort() on its first attempt; test_agent will busy-loop on its first attempt.');
  io.out('  Watch the kernel contain both: crash -> fresh process -> retry; hang -> timeout -> group kill -> retry.');
  io.out('');
  const { code } = await runCommand(
    {
      plan,
      // The crash demo's own small agents (examples/crash-demo/agents) take precedence over the built-ins.
      agents: [join(EXAMPLES, 'crash-demo', 'agents')],
      concurrency: DEFAULTS.demoConcurrency,
      inject: [],
      injections: [parseInjection('patch_agent:crash@1'), parseInjection('test_agent:hang@1')],
      report: undefined,
      json: args.includes('--json'),
      runsDir: DEFAULTS.runsDir,
      sampleMs: DEFAULTS.sampleMs,
      quiet: false,
    },
    io,
  );
  return code;
}

/**
 * `agentos demo`: the repair workflow on a copy of examples/buggy_math, with patch_agent crashing
 * (abort) on its first attempt. The example itself is never modified.
 */
export async function repairDemo(args: string[], io: Io): Promise<number> {
  io.out('AgentOS repair demo: every agent is a real child process; the kernel plans, schedules and supervises them.');
  io.out('  planner -> test_agent (baseline + coverage) -> analyzer (fault localisation) -> patch_agent (mutation search,');
  io.out('  one inserted test task per candidate) -> test_agent (verify) -> report_agent.  Fault injection: patch_agent aborts');
  io.out('  on its first attempt; the kernel replaces the process and retries. Agents run sandboxed (Node permission');
  io.out('  model), pass findings by direct message, broadcast and shared memory; the report agent gets a compressed context.');
  io.out('');
  const { code } = await runGoal(
    {
      goal: 'fix the failing tests in examples/buggy_math',
      kind: 'repair',
      repo: join(EXAMPLES, 'buggy_math'),
      apply: false,
      maxCandidates: DEFAULTS.maxCandidates,
      agents: [],
      injections: [parseInjection('patch_agent:crash@1')],
      runsDir: DEFAULTS.runsDir,
      concurrency: DEFAULTS.demoConcurrency,
      json: args.includes('--json'),
      quiet: false,
      sandbox: true,
    },
    io,
  );
  return code;
}

/** `agentos demo repo [PATH]`: a read-only scan (fan-out over top-level entries, then one report). */
export async function repoDemo(args: string[], io: Io): Promise<number> {
  const path = args.find((a) => !a.startsWith('-')) ?? PACKAGE_ROOT;
  const { code } = await runGoal(
    { goal: `scan ${path}`, kind: 'scan', repo: path, apply: false, maxCandidates: 1, agents: [], injections: [], runsDir: DEFAULTS.runsDir, concurrency: DEFAULTS.demoConcurrency, json: args.includes('--json'), quiet: false, sandbox: true },
    io,
  );
  return code;
}
