/**
 * The servers that watch runs from outside the kernel: the dashboard (page + WebSocket + /metrics) and
 * the bare --metrics server. Started before the first run so their URLs can be printed first.
 */
import { InputError } from '../errors.js';
import { DashboardServer } from '../dashboard/server.js';
import { MetricsServer } from '../observe/metrics-server.js';
import { RepairGoalPlanner, type GoalPlanner } from '../planning/goal-planner.js';
import type { RunHost } from '../runs/host.js';
import type { Io } from '../runs/io.js';

export interface Observers {
  dashboard?: DashboardServer;
  metrics?: MetricsServer;
  close(): Promise<void>;
}

export async function startObservers(
  opts: { dashboard: number | undefined; metrics: number | undefined; host: string | undefined },
  io: Io,
  host: () => RunHost,
  // Page runs use the goal planner with the built-in agents (a plan's own --agents may replace them).
  planner: GoalPlanner = new RepairGoalPlanner(),
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
          const h = host();
          // One run at a time: refuse before the planner copies a repository for nothing.
          if (h.active) throw new Error('a run is in progress; wait for it to finish');
          const planned = await planner.plan({ goal: req.goal, injectFaults: req.inject, repo: req.repo }, h.settings);
          const run = await h.start(planned.plan, planned.injections, planned.reportFile, planned.kernel);
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
