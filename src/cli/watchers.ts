/**
 * What watches a hosted run from outside the kernel (runs/host.ts attaches each to every run): progress
 * lines, the control socket `agentos ps` asks, the dashboard's view and the Prometheus exporter. All of
 * them subscribe to kernel events or read the ACB table; none touches dispatch.
 */
import { ControlServer } from '../control/server.js';
import type { DashboardServer } from '../dashboard/server.js';
import { RunView } from '../dashboard/run-view.js';
import type { MetricsServer } from '../observe/metrics-server.js';
import { RunMetricsExporter } from '../observe/prometheus.js';
import type { RunWatcher } from '../runs/host.js';
import type { Io } from '../runs/io.js';
import { attachProgress } from './render.js';

/** Progress lines on `write`. */
export function progressWatcher(write: (line: string) => void): RunWatcher {
  return (kernel) => ({ detach: attachProgress(kernel.events, write) });
}

/** The per-kernel control socket (`agentos ps` / `agentos top`); a failure to listen is said, not fatal. */
export function controlWatcher(io: Io): RunWatcher {
  return async (kernel, plan) => {
    let status: 'running' | 'succeeded' | 'failed' | 'interrupted' = 'running';
    const offStatus = kernel.events.on((e) => {
      if (e.type === 'run.finished') status = e.status;
    });
    const startedAt = new Date().toISOString();
    let control: ControlServer | undefined;
    try {
      control = await ControlServer.start(
        {
          processes: () => kernel.table.all(),
          info: () => {
            const tasks: Record<string, number> = {};
            for (const t of kernel.scheduler.graph.tasks.values()) tasks[t.state] = (tasks[t.state] ?? 0) + 1;
            return { kernel_pid: process.pid, run_id: kernel.runId, plan: plan.name, status, started_at: startedAt, run_dir: kernel.runDir, tasks };
          },
        },
        kernel.runId,
      );
      // A lost kernel's reaper removes it (the next ps/run would too).
      kernel.controlSocket = control.path;
    } catch (err) {
      io.err(`agentos: control socket unavailable (agentos ps will not list this run): ${(err as Error).message}`);
    }
    return {
      detach: async () => {
        offStatus();
        await control?.close();
      },
    };
  };
}

/** The dashboard's live view of the run and the Prometheus exporter (dashboard and/or --metrics). */
export function dashboardWatcher(dashboard: DashboardServer | undefined, metrics: MetricsServer | undefined): RunWatcher {
  return (kernel) => {
    const reg = kernel.registry;
    const tokensPerCall = (agent: string): number => (reg.has(agent) ? reg.get(agent).cost.tokens_per_call : 0);
    let view: RunView | undefined;
    if (dashboard) {
      const v = (view = new RunView({ processes: () => kernel.table.all(), outputOf: (id) => kernel.scheduler.graph.get(id)?.output, tokensPerCall }));
      kernel.events.on((e) => v.apply(e));
    }
    let exporter: RunMetricsExporter | undefined;
    if (dashboard || metrics) {
      exporter = new RunMetricsExporter({
        events: kernel.events,
        runId: kernel.runId,
        processes: () => kernel.table.all(),
        taskStates: () => [...kernel.scheduler.graph.tasks.values()].map((t) => t.state),
        tokensPerCall,
      });
      metrics?.setExporter(exporter);
    }
    if (view) {
      dashboard!.setView(view, exporter);
      dashboard!.setRunning(true);
    }
    return {
      finished: (report) => view?.applyReport(report),
      detach: () => dashboard?.setRunning(false),
    };
  };
}
