/**
 * Resource-aware concurrency: samples CPU load and available memory (systeminformation) on a timer off
 * the dispatch path, recommends a concurrency between the configured minimum and maximum, and applies it
 * to the scheduler's queue (p-queue takes a new concurrency at run time). Every sample and every change
 * is an event, and the monitor keeps them for the run report.
 */
import type { EventLog } from '../kernel-api/events.js';

export interface MonitorOptions {
  min: number;
  max: number;
  /** @default 500 */
  intervalMs?: number;
  /** Above this CPU load (%), step concurrency down. @default 85 */
  highCpu?: number;
  /** Below this CPU load (%), step concurrency up. @default 60 */
  lowCpu?: number;
  /** Below this much available memory (MiB), drop to the minimum. @default 512 */
  minFreeMb?: number;
}

export interface ResourceSample {
  t: number;
  cpu: number;
  mem_free_mb: number;
  concurrency: number;
}

export interface ConcurrencyDecision {
  t: number;
  from: number;
  to: number;
  reason: string;
}

/** The pure policy: next concurrency from the current one and a sample. */
export function recommend(current: number, s: { cpu: number; mem_free_mb: number }, o: Required<Omit<MonitorOptions, 'intervalMs'>>): { to: number; reason: string } {
  if (s.mem_free_mb < o.minFreeMb) return { to: o.min, reason: `only ${s.mem_free_mb} MiB free (< ${o.minFreeMb})` };
  if (s.cpu > o.highCpu && current > o.min) return { to: current - 1, reason: `CPU ${s.cpu}% > ${o.highCpu}%` };
  if (s.cpu < o.lowCpu && current < o.max) return { to: current + 1, reason: `CPU ${s.cpu}% < ${o.lowCpu}%` };
  return { to: Math.min(o.max, Math.max(o.min, current)), reason: 'steady' };
}

export class ResourceMonitor {
  readonly samples: ResourceSample[] = [];
  readonly decisions: ConcurrencyDecision[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private si: typeof import('systeminformation') | undefined;
  private readonly o: Required<Omit<MonitorOptions, 'intervalMs'>>;

  constructor(
    private readonly events: EventLog,
    private readonly get: () => number,
    private readonly set: (n: number) => void,
    private readonly opts: MonitorOptions,
  ) {
    if (opts.min < 1 || opts.max < opts.min) throw new RangeError(`monitor: need 1 <= min (${opts.min}) <= max (${opts.max})`);
    this.o = { min: opts.min, max: opts.max, highCpu: opts.highCpu ?? 85, lowCpu: opts.lowCpu ?? 60, minFreeMb: opts.minFreeMb ?? 512 };
  }

  async start(): Promise<void> {
    // Loaded here, not at import: the CLI pays for systeminformation only when the monitor runs.
    this.si ??= (await import('systeminformation')).default;
    await this.si.currentLoad(); // primes the load counters (the first reading is since boot)
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs ?? 500);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample and decision. Overlapping ticks are skipped. */
  async tick(): Promise<void> {
    if (this.busy || !this.si) return;
    this.busy = true;
    try {
      const [load, mem] = await Promise.all([this.si.currentLoad(), this.si.mem()]);
      const cur = this.get();
      const sample = { t: this.events.now(), cpu: Math.round(load.currentLoad), mem_free_mb: Math.round(mem.available / 1024 / 1024), concurrency: cur };
      this.samples.push(sample);
      if (this.samples.length > 10_000) this.samples.shift();
      this.events.emit({ type: 'monitor.sample', cpu: sample.cpu, mem_free_mb: sample.mem_free_mb, concurrency: cur });
      const { to, reason } = recommend(cur, sample, this.o);
      if (to !== cur) {
        this.set(to);
        this.decisions.push({ t: sample.t, from: cur, to, reason });
        this.events.emit({ type: 'monitor.decision', from: cur, to, reason });
      }
    } catch {
      // a failed reading skips this tick; the concurrency stays as it is
    } finally {
      this.busy = false;
    }
  }
}
