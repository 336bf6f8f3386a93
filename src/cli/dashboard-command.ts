/**
 * `agentos dashboard`: the dashboard without a plan. With --run DIR it shows that finished run (replayed
 * from its events); without, it waits for the page to start runs (goal + fault injection + Run).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BOUNDS, DEFAULTS } from '../config/defaults.js';
import { intFlag } from '../config/int-flag.js';
import { loadRunDir, replayPaced } from '../dashboard/replay.js';
import { DashboardServer } from '../dashboard/server.js';
import { InputError } from '../errors.js';
import { resolve } from 'node:path';
import { RepairGoalPlanner } from '../planning/goal-planner.js';
import { parseHost, parsePort, takeOptionalPort } from './port-flags.js';
import { EXIT } from '../runs/exit-codes.js';
import { RunHost } from '../runs/host.js';
import type { Io } from '../runs/io.js';
import { loadAgents } from '../runs/prepare.js';
import { installSignals } from '../runs/signals.js';
import { startObservers } from './observers.js';
import { controlWatcher, dashboardWatcher, progressWatcher } from './watchers.js';

export const DASHBOARD_USAGE = `usage: agentos dashboard [--run DIR] [options]
  --run DIR             show a finished run from its run directory (events.jsonl, report.json)
  --speed X             with --run: replay the events at X times the run's pace (default: all at once)
  --port P              listen on this port (default 0: a free one; the URL is printed)
  --host HOST           listen there instead of 127.0.0.1 (the printed URL carries the token either way)
  without --run, the page can start runs: a goal (repair / scan / report, as agentos run --goal),
  optional repository path (default: a fresh copy of examples/buggy_math per run), fault injection; for those:
  --agents DIR          add an agent directory (repeatable)
  --runs-dir DIR        parent of the run directories (default ${DEFAULTS.runsDir})
  --concurrency N       most attempts running at once (default ${DEFAULTS.dashboardConcurrency})
  --metrics [PORT]      also serve Prometheus text at http://127.0.0.1:PORT/metrics`;

const optsSchema = z.object({
  concurrency: intFlag('--concurrency', BOUNDS.concurrency.min, BOUNDS.concurrency.max).default(DEFAULTS.dashboardConcurrency),
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
    const signals = installSignals(() => {}, false);
    await signals.waitForSignal;
    paced?.stop();
    signals.remove();
    await server.close();
    return EXIT.ok;
  }

  // Runs started from the page go through the goal planner (as `agentos run --goal`): built-in agents
  // plus --agents, on a copy of examples/buggy_math unless the page names a repository.
  const agentDirs = (values.agents as string[] | undefined) ?? [];
  const registry = loadAgents(agentDirs);
  const planner = new RepairGoalPlanner({ agents: agentDirs });
  const observers = await startObservers({ dashboard: port, metrics: metricsPort, host }, io, () => runHost, planner);
  const runHost: RunHost = new RunHost({
    registry,
    runsDir: resolve((values['runs-dir'] as string | undefined) ?? DEFAULTS.runsDir),
    concurrency: parsed.data.concurrency,
    sampleMs: DEFAULTS.sampleMs,
    watchers: [progressWatcher(io.out), controlWatcher(io), dashboardWatcher(observers.dashboard, observers.metrics)],
    restoreTitle: true,
  });
  io.out('waiting for the page to start a run (Ctrl-C to stop)');
  const signals = installSignals((sig) => runHost.interrupt(sig));
  await signals.waitForSignal;
  await runHost.active?.done.catch(() => undefined);
  signals.remove();
  await observers.close();
  return EXIT.ok;
}
