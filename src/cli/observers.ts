/**
 * The servers that watch runs from outside the kernel: the dashboard (page + WebSocket + /metrics) and
 * the bare --metrics server. Started before the first run so their URLs can be printed first.
 */
import type { AgentRegistry } from '../config/registry.js';
import { InputError } from '../errors.js';
import { DashboardServer } from '../dashboard/server.js';
import { MetricsServer } from '../observe/metrics-server.js';
import { CrashDemoPlanner, type GoalPlanner } from '../planning/goal-planner.js';
import type { RunHost } from './run-host.js';
import type { Io } from './run-command.js';

export interface Observers {
  dashboard?: DashboardServer;
  metrics?: MetricsServer;
  close(): Promise<void>;
}

export async function startObservers(
  opts: { dashboard: number | undefined; metrics: number | undefined; host: string | undefined },
  registry: AgentRegistry,
  io: Io,
  host: () => RunHost,
  planner: GoalPlanner = new CrashDemoPlanner(registry),
): Promise<Observers> {
  let dashboard: DashboardServer | undefined;
  let metrics: MetricsServer | undefined;
  try {
    if (opts.dashboard !== undefined) {
      dashboard = await DashboardServer.start({
        mode: 'live',
        host: opts.host ?? '127.0.0.1',
        port: opts.dashboard,
        startRun: async (req) => {
          const planned = await planner.plan(req.goal, { injectFaults: req.inject });
          const run = await host().start(planned.plan, planned.injections);
          run.done.catch((err: unknown) => io.err(`agentos: run ${run.kernel.runId} failed: ${(err as Error).message}`));
          return { run_id: run.kernel.runId };
        },
      });
      io.out(`dashboard: ${dashboard.url}`);
    }
    if (opts.metrics !== undefined) {
      metrics = await MetricsServer.start(opts.metrics);
      io.out(`metrics: ${metrics.url}`);
    }
  } catch (err) {
    await dashboard?.close();
    await metrics?.close();
    const e = err as NodeJS.ErrnoException;
    throw new InputError('E_USAGE', `cannot listen: ${e.code === 'EADDRINUSE' ? 'the port is in use; pick another or use 0 for a free one' : e.message}`);
  }
  return {
    dashboard,
    metrics,
    async close() {
      await dashboard?.close();
      await metrics?.close();
    },
  };
}
