/**
 * Reads RSS and CPU of every live agent process in one batched pidusage call per tick and kills any
 * process over its memory quota (SIGKILL; the attempt fails with kind `memory`).
 */
import { readFileSync } from 'node:fs';
import pidusage from 'pidusage';
import { recordSample } from '../kernel-api/acb.js';
import type { EventLog } from '../kernel-api/events.js';
import type { AgentProcess } from './agent-process.js';

const MB = 1024 * 1024;

/**
 * Pids of a process's descendants (Linux /proc; elsewhere none). An agent's quota covers the tools it
 * starts (a test run, a compiler): their memory is the agent's work, and they die with its group anyway.
 */
export function descendantPids(pid: number, limit = 256): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0 && out.length < limit) {
    const p = stack.pop()!;
    let text: string;
    try {
      text = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of text.split(' ')) {
      const n = Number(c);
      if (n > 0) {
        out.push(n);
        stack.push(n);
      }
    }
  }
  return out;
}

export class QuotaSampler {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  ticks = 0;
  /** Total time spent in sampling, for the benchmark (ms). */
  busyMs = 0;

  constructor(
    private readonly live: () => AgentProcess[],
    private readonly events: EventLog,
    readonly intervalMs: number,
  ) {}

  /**
   * How long pidusage keeps a pid's open /proc handle without a read. Long on purpose: pidusage closes an
   * expired handle from its own timer even while a read on it is still pending (a slow tick under load),
   * and a closed fd number is soon reused by a pipe of the kernel. A minute keeps that race out of reach.
   */
  private get handleMaxAgeMs(): number {
    return Math.max(60_000, this.intervalMs * 4);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    // Not pidusage.clear(): it forgets the open /proc handles without closing them. The entries expire
    // (and their handles close) within handleMaxAgeMs on pidusage's own unref'd timer.
  }

  /** One sample of every live process. Overlapping ticks are skipped, never queued. */
  async tick(): Promise<void> {
    if (this.running) return;
    const procs = this.live().filter((p) => p.pid > 0 && p.alive);
    if (procs.length === 0) return;
    this.running = true;
    const t0 = performance.now();
    try {
      // maxage: pidusage keeps one open /proc handle per pid until its entry expires (see handleMaxAgeMs).
      const trees = new Map(procs.map((p) => [p.pid, descendantPids(p.pid)]));
      const stats = await pidusage([...procs.map((p) => p.pid), ...[...trees.values()].flat()], { maxage: this.handleMaxAgeMs });
      const samples: Array<{ agent: string; instance: number; pid: number; rss_mb: number; cpu: number }> = [];
      for (const p of procs) {
        const s = stats[p.pid];
        if (!s || !p.alive) continue; // exited between listing and reading
        const acb = p.acb;
        let bytes = s.memory;
        for (const c of trees.get(p.pid) ?? []) bytes += stats[c]?.memory ?? 0;
        recordSample(acb, Math.round((bytes / MB) * 10) / 10, Math.round(s.cpu * 10) / 10);
        samples.push({ agent: acb.agent, instance: acb.instance, pid: p.pid, rss_mb: acb.rss_mb, cpu: acb.cpu });
        if (acb.rss_mb > acb.quota_mb) {
          this.events.emit({ type: 'quota.exceeded', agent: acb.agent, instance: acb.instance, pid: p.pid, rss_mb: acb.rss_mb, quota_mb: acb.quota_mb });
          p.terminate('memory');
        }
      }
      this.ticks++;
      this.events.emit({ type: 'quota.sample', samples });
    } catch {
      // every pid vanished at once: nothing to sample this tick
    } finally {
      this.busyMs += performance.now() - t0;
      this.running = false;
    }
  }
}
