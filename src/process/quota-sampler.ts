/**
 * Samples the memory (RSS) and CPU of every live agent process each tick and kills any process over its
 * memory quota (SIGKILL; the attempt fails with kind `memory`). The quota counts every descendant,
 * whichever thread started it: with a cgroup, every process of the agent's cell (cgroup.procs — also
 * those that left its group or session); without, the /proc walk over the children of every thread.
 *
 * Every /proc read is open-read-close and synchronous: the sampler holds no file handle between ticks,
 * however many short-lived descendants come and go (pidusage, used before, kept one open handle per pid
 * it had ever read for its maxage: a test runner's churn piled up ~1,400 fds and the next spawn failed
 * with EMFILE). A read that fails (EMFILE, EACCES...) is counted, reported in report.json `sampler`
 * and as a `sampler.error` event, and never thrown out of the timer. Other platforms than Linux use
 * pidusage through `ps` (no handle cache there).
 */
import { readFileSync } from 'node:fs';
import pidusage from 'pidusage';
import { recordSample } from '../kernel-api/acb.js';
import type { EventLog } from '../kernel-api/events.js';
import type { AgentProcess } from './agent-process.js';
import { join } from 'node:path';
import { readPids } from './containment/cgfs.js';
import { kernelPageSize, treeRssBytes } from './containment/index.js';
import { checkLogs } from './logs.js';

const MB = 1024 * 1024;
/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks on every Linux architecture. */
const CLK_TCK = 100;
/** A `sampler.error` event at most this often (the count in the report is exact). */
const ERROR_EVENT_EVERY_MS = 5_000;
/** One agent's sample: its cell's RSS, its CPU %, and whether its cell's OOM counter rose since the last tick. */
interface Measured {
  bytes: number;
  cpu: number;
  oom: boolean;
}
/** Agents measured per event-loop turn. */
const SLICE = 25;

/** report.json `sampler`. */
export interface SamplerReport {
  ticks: number;
  /** Reads that failed (EMFILE, EACCES, ...) or ticks that threw: counted, never fatal. */
  errors: number;
  last_error: string | null;
  /** Time spent sampling (ms), all ticks. */
  busy_ms: number;
}

/** RSS (bytes) and utime + stime (clock ticks) of one process from /proc/<pid>/stat; null when gone, 'error' otherwise. */
function statOf(pid: number): { bytes: number; ticks: number } | null | 'error' {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ESRCH' ? null : 'error';
  }
  // Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15, rss 24.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { bytes: Number(f[21]) * kernelPageSize(), ticks: Number(f[11]) + Number(f[12]) };
}

/**
 * Bytes of an agent's whole tree and its own CPU ticks, errors counted. With a cgroup: every pid of the
 * cell (one read of cgroup.procs, one of each process's stat: the agent's stat serves CPU too).
 */
function measure(p: AgentProcess): { bytes: number; ticks: number | null; errors: number } {
  const cell = p.cell;
  const dir = cell ? (cell.dirs.v2 ?? cell.dirs.memory ?? cell.dirs.pids ?? cell.dirs.freezer) : null;
  if (dir) {
    let bytes = 0;
    let errors = 0;
    let ticks: number | null = null;
    // cgroup.procs as is: a zombie's rss is 0.
    for (const pid of readPids(join(dir, 'cgroup.procs'))) {
      const st = statOf(pid);
      if (st === 'error') errors++;
      else if (st !== null) {
        bytes += st.bytes;
        if (pid === p.pid) ticks = st.ticks;
      }
    }
    return { bytes, ticks, errors };
  }
  // No tag scan here: it reads every process's environ (docs/containment.md); the kill path uses it.
  const t = treeRssBytes(p.pid);
  const st = statOf(p.pid);
  return { bytes: t.bytes, ticks: st && st !== 'error' ? st.ticks : null, errors: t.errors };
}

export class QuotaSampler {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly prevCpu = new Map<number, { ticks: number; at: number }>();
  private readonly oomSeen = new WeakMap<AgentProcess, number>();
  private lastErrorEventAt = -Infinity;
  ticks = 0;
  errors = 0;
  lastError: string | null = null;
  /** Total time spent in sampling, for the benchmark (ms). */
  busyMs = 0;

  constructor(
    private readonly live: () => AgentProcess[],
    private readonly events: EventLog,
    readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  report(): SamplerReport {
    return { ticks: this.ticks, errors: this.errors, last_error: this.lastError, busy_ms: Math.round(this.busyMs * 10) / 10 };
  }

  /** One sample of every live process (and the log caps). Overlapping ticks are skipped, never queued. Never rejects. */
  async tick(): Promise<void> {
    if (this.running) return;
    checkLogs();
    const procs = this.live().filter((p) => p.pid > 0 && p.alive);
    if (procs.length === 0) return;
    this.running = true;
    const t0 = performance.now();
    try {
      const measured = process.platform === 'linux' ? await this.measureProc(procs) : await this.measurePs(procs);
      const samples: Array<{ agent: string; instance: number; pid: number; rss_mb: number; cpu: number }> = [];
      for (const [p, m] of measured) {
        if (!p.alive) continue; // exited between listing and reading
        const acb = p.acb;
        recordSample(acb, Math.round((m.bytes / MB) * 10) / 10, Math.round(m.cpu * 10) / 10);
        samples.push({ agent: acb.agent, instance: acb.instance, pid: p.pid, rss_mb: acb.rss_mb, cpu: acb.cpu });
        if (acb.rss_mb > acb.quota_mb || m.oom) {
          this.events.emit({ type: 'quota.exceeded', agent: acb.agent, instance: acb.instance, pid: p.pid, rss_mb: acb.rss_mb, quota_mb: acb.quota_mb });
          p.terminate('memory');
        }
      }
      this.ticks++;
      this.events.emit({ type: 'quota.sample', samples });
    } catch (err) {
      this.fail(1, err instanceof Error ? err.message : String(err));
    } finally {
      this.busyMs += performance.now() - t0;
      this.running = false;
    }
  }

  /**
   * Synchronous reads in slices of SLICE agents with a turn of the event loop between them, so a tick
   * over many agents never holds up dispatch for long (and no file handle lives across the yield).
   */
  private async measureProc(procs: AgentProcess[]): Promise<Map<AgentProcess, Measured>> {
    const out = new Map<AgentProcess, Measured>();
    const seen = new Set<number>();
    let errors = 0;
    for (let i = 0; i < procs.length; i++) {
      if (i > 0 && i % SLICE === 0) await new Promise<void>((r) => setImmediate(r));
      const p = procs[i]!;
      const now = performance.now();
      const t = measure(p);
      errors += t.errors;
      if (t.bytes === 0 && t.errors > 0) continue; // nothing readable: no sample rather than a false 0
      seen.add(p.pid);
      const ticks = t.ticks;
      const prev = this.prevCpu.get(p.pid);
      let cpu = 0;
      if (ticks !== null) {
        if (prev && now > prev.at) cpu = ((ticks - prev.ticks) / CLK_TCK / ((now - prev.at) / 1000)) * 100;
        this.prevCpu.set(p.pid, { ticks, at: now });
      }
      out.set(p, { bytes: t.bytes, cpu: Math.max(0, cpu), oom: this.newOom(p) });
    }
    // Only live processes are remembered.
    for (const pid of this.prevCpu.keys()) if (!seen.has(pid)) this.prevCpu.delete(pid);
    if (errors > 0) this.fail(errors, `${errors} /proc read(s) failed this tick`);
    return out;
  }

  private async measurePs(procs: AgentProcess[]): Promise<Map<AgentProcess, Measured>> {
    const stats = await pidusage(procs.map((p) => p.pid));
    return new Map(procs.filter((p) => stats[p.pid]).map((p) => [p, { bytes: stats[p.pid]!.memory, cpu: stats[p.pid]!.cpu, oom: false }]));
  }

  /**
   * The v1 OOM killer ends one process of the cell (the largest), often a descendant, and the agent
   * lives on over its quota: a rise of the cell's OOM counter ends the attempt as `memory`. (v2 sets
   * memory.oom.group=1: the kernel ends the whole cell itself.) One read per agent, v1 only.
   */
  private newOom(p: AgentProcess): boolean {
    const cell = p.cell;
    if (!cell || cell.plan.memory !== 'cgroup-v1' || !cell.dirs.memory) return false;
    const n = cell.oomKills();
    const seen = this.oomSeen.get(p) ?? 0;
    this.oomSeen.set(p, n);
    return n > seen;
  }

  private fail(n: number, message: string): void {
    this.errors += n;
    this.lastError = message;
    const now = performance.now();
    if (now - this.lastErrorEventAt < ERROR_EVENT_EVERY_MS) return;
    this.lastErrorEventAt = now;
    this.events.emit({ type: 'sampler.error', errors: this.errors, message });
  }
}
