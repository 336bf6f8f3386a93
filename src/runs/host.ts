/**
 * Hosts runs in this process, one at a time (the dashboard may start the next): builds the kernel, lets
 * the watchers the caller gives attach to it (progress lines, the control socket, the dashboard view,
 * the metrics exporter - all of them subscribe to events or read the ACB table, none touches dispatch),
 * runs it and detaches them again.
 */
import type { Plan } from '../config/plan.js';
import type { AgentRegistry } from '../config/registry.js';
import { Kernel, type KernelOptions } from '../kernel/kernel.js';
import type { KvStoreOptions } from '../kvcache/store.js';
import type { RunReport } from '../observe/report.js';
import type { Injection } from '../scheduler/scheduler.js';

/** Something that watches a run while it goes: attached before it starts, detached after its report. */
export interface Attached {
  /** The run's report, once written. */
  finished?(report: RunReport): void;
  detach(): void | Promise<void>;
}
export type RunWatcher = (kernel: Kernel, plan: Plan) => Attached | Promise<Attached>;

export interface HostOptions {
  registry: AgentRegistry;
  runsDir: string;
  concurrency: number;
  sampleMs: number;
  /** KV-cache page store settings for the kernels started here. */
  kv?: KvStoreOptions | undefined;
  /** Attached to every run hosted here, in order. */
  watchers: RunWatcher[];
  /** Give the process its own title back after each run (a long-lived host: the dashboard). */
  restoreTitle?: boolean;
}

export interface HostedRun {
  kernel: Kernel;
  done: Promise<RunReport>;
}

/** What a goal planner needs to know of the host: where runs go and how many attempts at once. */
export interface HostSettings {
  runsDir: string;
  concurrency: number;
}

export class RunHost {
  private current: HostedRun | undefined;

  constructor(private readonly opts: HostOptions) {}

  get active(): HostedRun | undefined {
    return this.current;
  }

  get settings(): HostSettings {
    return { runsDir: this.opts.runsDir, concurrency: this.opts.concurrency };
  }

  /**
   * Start a run; resolves once the kernel exists (the run goes on in `done`). `kernelExtra` adds or
   * overrides kernel options for this run (a goal run's registry, run id, sandbox vars, monitor).
   * Throws when a run is already in progress.
   */
  async start(plan: Plan, injections: readonly Injection[], reportFile?: string, kernelExtra: Partial<KernelOptions> = {}): Promise<HostedRun> {
    if (this.current) throw new Error('a run is already in progress');
    const kernel = new Kernel({ registry: this.opts.registry, runsDir: this.opts.runsDir, concurrency: this.opts.concurrency, injections, sampleIntervalMs: this.opts.sampleMs, ...(this.opts.kv ? { kv: this.opts.kv } : {}), ...kernelExtra });
    const previousTitle = process.title;
    process.title = `agentos-kernel run=${kernel.runId}`;
    const attached: Attached[] = [];
    for (const w of this.opts.watchers) attached.push(await w(kernel, plan));
    const done = (async () => {
      try {
        const report = await kernel.run(plan, reportFile);
        for (const a of attached) a.finished?.(report);
        return report;
      } finally {
        for (const a of attached) await a.detach();
        this.current = undefined;
        if (this.opts.restoreTitle) process.title = previousTitle;
      }
    })();
    this.current = { kernel, done };
    return this.current;
  }

  interrupt(reason: string): void {
    this.current?.kernel.interrupt(reason);
  }
}
