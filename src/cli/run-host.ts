/**
 * Hosts runs in this process with everything that watches them: progress lines, the control socket
 * (`agentos ps`), the dashboard view and the Prometheus exporter. All of them subscribe to kernel events
 * or read the ACB table; none touches dispatch. One run at a time; the dashboard may start the next.
 */
import type { Plan } from '../config/plan.js';
import type { AgentRegistry } from '../config/registry.js';
import { ControlServer } from '../control/server.js';
import type { DashboardServer } from '../dashboard/server.js';
import { RunView } from '../dashboard/run-view.js';
import { Kernel, type KernelOptions } from '../kernel/kernel.js';
import type { MetricsServer } from '../observe/metrics-server.js';
import { RunMetricsExporter } from '../observe/prometheus.js';
import type { RunReport } from '../observe/report.js';
import type { Injection } from '../scheduler/scheduler.js';
import type { KvStoreOptions } from '../kvcache/store.js';
import { attachProgress } from './render.js';
import type { Io } from './run-command.js';

export interface HostOptions {
  registry: AgentRegistry;
  runsDir: string;
  concurrency: number;
  sampleMs: number;
  /** Progress lines go here (undefined: none). */
  progress: ((line: string) => void) | undefined;
  dashboard?: DashboardServer;
  metrics?: MetricsServer;
  /** KV-cache page store settings for the kernels started here. */
  kv?: KvStoreOptions | undefined;
}

export interface HostedRun {
  kernel: Kernel;
  done: Promise<RunReport>;
}

export class RunHost {
  private current: HostedRun | undefined;

  constructor(
    private readonly opts: HostOptions,
    private readonly io: Io,
  ) {}

  get active(): HostedRun | undefined {
    return this.current;
  }

  /** Where runs go and how many attempts at once (a goal planner sets its run up with these). */
  get settings(): { runsDir: string; concurrency: number } {
    return { runsDir: this.opts.runsDir, concurrency: this.opts.concurrency };
  }

  /**
   * Start a run; resolves once the kernel exists (the run goes on in `done`). `kernelExtra` adds or
   * overrides kernel options for this run (a goal run's registry, run id, sandbox vars, monitor).
   */
  async start(plan: Plan, injections: readonly Injection[], reportFile?: string, kernelExtra: Partial<KernelOptions> = {}): Promise<HostedRun> {
    if (this.current) throw new Error('a run is already in progress');
    const registry = kernelExtra.registry ?? this.opts.registry;
    const kernel = new Kernel({ registry, runsDir: this.opts.runsDir, concurrency: this.opts.concurrency, injections, sampleIntervalMs: this.opts.sampleMs, ...(this.opts.kv ? { kv: this.opts.kv } : {}), ...kernelExtra });
    const previousTitle = process.title;
    process.title = `agentos-kernel run=${kernel.runId}`;
    const tokensPerCall = (agent: string): number => (registry.has(agent) ? registry.get(agent).cost.tokens_per_call : 0);
    const detachProgress = this.opts.progress ? attachProgress(kernel.events, this.opts.progress) : () => {};

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
    } catch (err) {
      this.io.err(`agentos: control socket unavailable (agentos ps will not list this run): ${(err as Error).message}`);
    }

    let view: RunView | undefined;
    let exporter: RunMetricsExporter | undefined;
    if (this.opts.dashboard) {
      view = new RunView({ processes: () => kernel.table.all(), outputOf: (id) => kernel.scheduler.graph.get(id)?.output, tokensPerCall });
      const v = view;
      kernel.events.on((e) => v.apply(e));
    }
    if (this.opts.dashboard || this.opts.metrics) {
      exporter = new RunMetricsExporter({
        events: kernel.events,
        runId: kernel.runId,
        processes: () => kernel.table.all(),
        taskStates: () => [...kernel.scheduler.graph.tasks.values()].map((t) => t.state),
        tokensPerCall,
      });
      this.opts.metrics?.setExporter(exporter);
    }
    if (view) {
      this.opts.dashboard!.setView(view, exporter);
      this.opts.dashboard!.setRunning(true);
    }

    const done = (async () => {
      try {
        const report = await kernel.run(plan, reportFile);
        view?.applyReport(report);
        return report;
      } finally {
        detachProgress();
        offStatus();
        await control?.close();
        this.opts.dashboard?.setRunning(false);
        this.current = undefined;
        if (this.opts.dashboard) process.title = previousTitle; // back to the dashboard's own name
      }
    })();
    this.current = { kernel, done };
    return this.current;
  }

  interrupt(reason: string): void {
    this.current?.kernel.interrupt(reason);
  }
}
