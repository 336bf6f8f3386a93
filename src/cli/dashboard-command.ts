/**
 * `agentos dashboard`: the dashboard without a plan. With --run DIR it shows that finished run (replayed
 * from its events); without, it waits for the page to start runs (goal + fault injection + Run).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { AgentRegistry } from '../config/registry.js';
import { loadRunDir, replayPaced } from '../dashboard/replay.js';
import { DashboardServer } from '../dashboard/server.js';
import { InputError } from '../errors.js';
import { resolve } from 'node:path';
import { BUILTIN_AGENTS } from '../paths.js';
import { RepairGoalPlanner } from '../planning/goal-planner.js';
import { parseHost, parsePort, takeOptionalPort } from './port-flags.js';
import { EXIT, installSignals, type Io } from './run-command.js';
import { RunHost } from './run-host.js';
import { startObservers } from './observers.js';

export const DASHBOARD_USAGE = `usage: agentos dashboard [--run DIR] [options]
  --run DIR             show a finished run from its run directory (events.jsonl, report.json)
  --speed X             with --run: replay the events at X times the run's pace (default: all at once)
  --port P              listen on this port (default 0: a free one; the URL is printed)
  --host HOST           listen there instead of 127.0.0.1 (the printed URL carries the token either way)
  without --run, the page can start runs: a goal (repair / scan / report, as agentos run --goal),
  optional repository path (default: a fresh copy of examples/buggy_math per run), fault injection; for those:
  --agents DIR          add an agent directory (repeatable)
  --runs-dir DIR        parent of the run directories (default .agentos/runs)
  --concurrency N       most attempts running at once (default 4)
  --metrics [PORT]      also serve Prometheus text at http://127.0.0.1:PORT/metrics`;

const optsSchema = z.object({
  concurrency: z.coerce.number({ error: '--concurrency takes a whole number' }).int('--concurrency takes a whole number').min(1, '--concurrency must be at least 1').max(10_000).default(4),
});

export async function dashboardCommand(argvIn: string[], io: Io): Promise<number> {
  const { port: metricsPort, rest: argv } = takeOptionalPort(argvIn, '--metrics');
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        run: { type: 'string' },
        speed: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        agents: { type: 'string', multiple: true },
        'runs-dir': { type: 'string' },
        concurrency: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new InputError('E_USAGE', `${(err as Error).message}\n${DASHBOARD_USAGE}`);
  }
  const port = values.port === undefined ? 0 : parsePort('--port', values.port as string);
  const host = parseHost(values.host as string | undefined);
  const parsed = optsSchema.safeParse({ concurrency: values.concurrency });
  if (!parsed.success) throw new InputError('E_USAGE', `${parsed.error.issues[0]!.message}\n${DASHBOARD_USAGE}`);
  process.title = 'agentos-dashboard';

  const speed = values.speed === undefined ? undefined : Number(values.speed);
  if (speed !== undefined && (!Number.isFinite(speed) || speed <= 0 || speed > 10_000)) throw new InputError('E_USAGE', `--speed '${String(values.speed)}': expected a number above 0 (1 = the run's own pace), at most 10000.`);
  if (speed !== undefined && values.run === undefined) throw new InputError('E_USAGE', `--speed only applies to --run DIR.\n${DASHBOARD_USAGE}`);

  if (values.run !== undefined) {
    const loaded = loadRunDir(values.run as string);
    const server = await DashboardServer.start({ mode: 'replay', host, port });
    const paced = speed === undefined ? undefined : replayPaced(loaded, speed);
    server.setView(paced?.view ?? loaded.view);
    io.out(`dashboard: ${server.url}`);
    io.out(`showing run ${loaded.view.run?.run_id ?? '?'} from ${values.run as string}: ${loaded.events} events${loaded.skipped ? ` (${loaded.skipped} unreadable lines skipped)` : ''}${loaded.hasReport ? '' : ', no report.json'} (Ctrl-C to stop)`);
    const signals = installSignals(() => {});
    await signals.waitForSignal;
    paced?.stop();
    signals.remove();
    await server.close();
    return EXIT.ok;
  }

  // Runs started from the page go through the goal planner (as `agentos run --goal`): built-in agents
  // plus --agents, on a copy of examples/buggy_math unless the page names a repository.
  const agentDirs = (values.agents as string[] | undefined) ?? [];
  const registry = new AgentRegistry([BUILTIN_AGENTS, ...agentDirs]);
  const planner = new RepairGoalPlanner({ agents: agentDirs });
  const observers = await startObservers({ dashboard: port, metrics: metricsPort, host }, io, () => runHost, planner);
  const runHost: RunHost = new RunHost(
    { registry, runsDir: resolve((values['runs-dir'] as string | undefined) ?? '.agentos/runs'), concurrency: parsed.data.concurrency, sampleMs: 250, progress: io.out, dashboard: observers.dashboard, metrics: observers.metrics },
    io,
  );
  io.out('waiting for the page to start a run (Ctrl-C to stop)');
  const signals = installSignals((sig) => runHost.interrupt(sig));
  await signals.waitForSignal;
  await runHost.active?.done.catch(() => undefined);
  signals.remove();
  await observers.close();
  return EXIT.ok;
}
