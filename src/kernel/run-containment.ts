/**
 * The run's containment, as the kernel holds it (docs/containment.md): the mode (option, else
 * $AGENTOS_CONTAINMENT, else auto), the reaping of what a killed kernel left, the Containment made on
 * first use (one cell per agent process), its cleanup and its report.
 */
import { InputError } from '../errors.js';
import type { EventLog } from '../kernel-api/events.js';
import { Containment, reapStale, type ContainmentReport } from '../process/containment/index.js';
import type { KernelOptions } from './options.js';

export type ContainmentMode = NonNullable<KernelOptions['containment']>;

/** The containment mode: the option, else $AGENTOS_CONTAINMENT, else auto. Throws InputError E_USAGE for another value. */
export function containmentMode(opt: KernelOptions['containment']): ContainmentMode {
  const v = opt ?? process.env.AGENTOS_CONTAINMENT ?? 'auto';
  if (v === 'auto' || v === 'proc-walk' || v === 'off') return v;
  throw new InputError('E_USAGE', `AGENTOS_CONTAINMENT=${v}: use auto, proc-walk or off (docs/containment.md)`);
}

export class RunContainment {
  readonly mode: ContainmentMode;
  private current: Containment | undefined;
  private finalReport: ContainmentReport | undefined;
  private reaped: Promise<void> | undefined;

  /** Throws InputError E_USAGE for an unknown mode. */
  constructor(
    private readonly runId: string,
    opt: KernelOptions['containment'],
    private readonly runtimeDir: string | undefined,
    private readonly events: EventLog,
  ) {
    this.mode = containmentMode(opt);
  }

  /** The run's containment, made on first use (never throws: a refused cgroup falls back to the /proc walk). */
  get(): Containment | undefined {
    if (this.mode === 'off') return undefined;
    this.current ??= Containment.create({
      runId: this.runId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'run',
      mode: this.mode === 'proc-walk' ? 'proc-walk' : 'auto',
      ...(this.runtimeDir ? { runtimeDir: this.runtimeDir } : {}),
    });
    return this.current;
  }

  /** Once per run, before the first agent: remove what a killed kernel left (its cgroups, and the orphaned agents still in them). */
  reapStale(): Promise<void> {
    if (this.mode === 'off') return Promise.resolve();
    this.reaped ??= reapStale(this.runtimeDir ? { runtimeDir: this.runtimeDir } : {}).then((r) => {
      if (r.removed.length > 0 || r.killed.length > 0) this.events.emit({ type: 'containment.reaped', removed: r.removed, killed: r.killed, failed: r.failed });
    });
    return this.reaped;
  }

  /** After every process ended: every cell, then whatever still carries the run's tag; the run cgroups removed. */
  async cleanup(): Promise<void> {
    this.finalReport = await this.current?.cleanup();
  }

  /** Which mechanism held each agent and what escaped (the final one once cleaned up). */
  report(): ContainmentReport | undefined {
    return this.finalReport ?? this.current?.report();
  }
}
