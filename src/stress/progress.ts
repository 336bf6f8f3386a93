/** Counts a stress run's progress from kernel events and renders it as one status line. */
import type { TimedEvent } from '../kernel-api/events.js';

export class ProgressMeter {
  private done = 0;
  private ok = 0;
  private failed = 0;
  private restarts = 0;
  private faults = 0;
  private retries = 0;
  private lastT = 0;
  private lastDone = 0;

  constructor(private readonly total: number) {}

  count(e: TimedEvent): void {
    switch (e.type) {
      case 'task.state':
        if (e.state === 'succeeded') {
          this.done++;
          this.ok++;
        } else if (e.state === 'failed' || e.state === 'skipped') {
          this.done++;
          this.failed++;
        }
        break;
      case 'process.restart':
        this.restarts++;
        break;
      case 'fault.injected':
        this.faults++;
        break;
      case 'task.retry':
        this.retries++;
        break;
      default:
        break;
    }
  }

  /** One line; the rate is over the time since the previous line. */
  line(nowMs: number): string {
    const dt = (nowMs - this.lastT) / 1000;
    const rate = dt > 0 ? (this.done - this.lastDone) / dt : 0;
    this.lastT = nowMs;
    this.lastDone = this.done;
    const pct = this.total > 0 ? Math.floor((this.done * 100) / this.total) : 100;
    return `${(nowMs / 1000).toFixed(1).padStart(6)}s  ${String(this.done).padStart(String(this.total).length)}/${this.total} done (${pct}%)  ok ${this.ok}  failed ${this.failed}  faults ${this.faults}  retries ${this.retries}  restarts ${this.restarts}  ${rate.toFixed(0)} tasks/s`;
  }
}
