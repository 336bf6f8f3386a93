/**
 * `agentos demo`: the fault-injection crash demo. The example plan runs over the example agents while
 * patch_agent crashes (abort) and test_agent hangs on their first attempts; the kernel recovers both.
 */
import { join } from 'node:path';
import { EXAMPLES } from '../paths.js';
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
      concurrency: 4,
      inject: [],
      injections: [parseInjection('patch_agent:crash@1'), parseInjection('test_agent:hang@1')],
      report: undefined,
      json: args.includes('--json'),
      runsDir: '.agentos/runs',
      sampleMs: 250,
      quiet: false,
    },
    io,
  );
  return code;
}
