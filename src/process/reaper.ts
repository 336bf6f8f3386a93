/**
 * Kernel side of the reaper (worker/reaper.ts): a detached helper that SIGKILLs every tracked agent
 * process group and cgroup once the kernel's IPC channel to it closes, so even a SIGKILLed kernel leaves
 * no agent behind (busy-looping ones included), and then writes the lost kernel's `report.json`.
 *
 * The kernel watches its reaper in turn: a stopped reaper (SIGSTOP from an agent) is continued, a dead
 * one is started again (at most `MAX_RESTARTS` times) and told everything it knew; each is an event
 * (`reaper.stopped`, `reaper.lost`). The reaper reports a kernel it had to continue (`kernel.stopped`).
 */
import { readFileSync } from 'node:fs';
import { execaNode, type ResultPromise } from 'execa';
import type { EventLog } from '../kernel-api/events.js';
import { ENV } from '../protocol/messages.js';

/** What the reaper needs beyond the run id (all optional: without them it only kills). */
export interface ReaperOptions {
  /** The run directory: where a lost kernel's report.json goes. */
  runDir?: string;
  /** Where `kernel.stopped`, `reaper.stopped` and `reaper.lost` are recorded. */
  events?: EventLog;
  /** The kernel's control socket, removed by the reaper when the kernel is lost. */
  socket?: () => string | undefined;
  /** How often each side checks the other, ms. @default 200 (reaper), 500 (kernel) */
  watchMs?: number;
  /** A kernel stopped this long is continued, ms. @default 1000 */
  stopBoundMs?: number;
}

/** A reaper that died this many times is not started again (agents still exit on their own disconnect). */
export const MAX_RESTARTS = 10;

type ToReaper =
  | { type: 'track'; pgid: number; start: string }
  | { type: 'untrack'; pgid: number }
  | { type: 'sync'; groups: [number, string][]; cgroups: string[] }
  | { type: 'track-cgroup' | 'untrack-cgroup'; path: string }
  | { type: 'socket'; path: string }
  | { type: 'kill-all' }
  | { type: 'done' };

export class Reaper {
  private sub!: ResultPromise;
  private exitedP!: Promise<void>;
  private readyP!: Promise<void>;
  private readyNow: () => void = () => {};
  /** pgid -> its leader's start time (/proc/<pid>/stat field 22): the reaper signals nothing else. */
  private readonly groups = new Map<number, string>();
  private readonly cgroups = new Set<string>();
  private closing = false;
  private restartsN = 0;
  private readonly watch: NodeJS.Timeout;

  constructor(
    private readonly workerDir: string,
    private readonly runId: string,
    private readonly o: ReaperOptions = {},
  ) {
    this.spawn();
    this.watch = setInterval(() => this.check(), o.watchMs ?? 500);
    this.watch.unref();
  }

  private spawn(): void {
    const env: Record<string, string> = { [ENV.run]: this.runId };
    if (this.o.runDir) env.AGENTOS_REAPER_RUN_DIR = this.o.runDir;
    if (this.o.stopBoundMs) env.AGENTOS_REAPER_STOP_MS = String(this.o.stopBoundMs);
    // A reaper started again knows every group and cgroup from its first instruction on: no window.
    if (this.groups.size > 0 || this.cgroups.size > 0) env.AGENTOS_REAPER_TRACKED = JSON.stringify(this.snapshot());
    this.sub = execaNode(`${this.workerDir}/reaper.js`, ['agentos-reaper', `run=${this.runId}`], {
      nodeOptions: ['--max-old-space-size=32'],
      ipc: true,
      serialization: 'json',
      detached: true,
      cleanup: false,
      reject: false,
      buffer: false,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'ignore',
      env,
      extendEnv: false,
    });
    const sub = this.sub;
    this.readyP = new Promise<void>((resolve) => (this.readyNow = resolve));
    sub.catch(() => {});
    this.exitedP = new Promise<void>((resolve) => sub.once('exit', () => resolve()));
    sub.once('exit', (code, signal) => this.onExit(sub, code, signal));
    sub.on('message', (m: unknown) => this.onMessage(m));
    // The reaper must not keep the kernel's event loop alive.
    sub.unref();
    sub.channel?.unref();
  }

  private onMessage(m: unknown): void {
    const msg = m as { type?: unknown; for_ms?: unknown } | null;
    if (msg?.type === 'ready') this.resend();
    else if (msg?.type === 'kernel-stopped' && typeof msg.for_ms === 'number') this.o.events?.emit({ type: 'kernel.stopped', for_ms: Math.round(msg.for_ms) });
  }

  /** The reaper died while the kernel lives (an agent killed it): start another that knows everything. */
  private onExit(sub: ResultPromise, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closing || sub !== this.sub) return;
    this.o.events?.emit({ type: 'reaper.lost', pid: sub.pid ?? -1, code, signal: signal ?? null, restarts: this.restartsN });
    if (this.restartsN >= MAX_RESTARTS) return;
    this.restartsN++;
    // It is told everything once it says it is ready.
    this.spawn();
  }

  private snapshot(): { groups: [number, string][]; cgroups: string[] } {
    return { groups: [...this.groups], cgroups: [...this.cgroups] };
  }

  /**
   * Tell the reaper everything tracked (again), replacing what it holds: what was sent while it loaded
   * may have been lost — a track, and an untrack too (a restarted reaper inherited that group).
   */
  private resend(): void {
    const s = this.snapshot();
    const ready = this.readyNow;
    // Ready once the sync left this process (a kernel SIGKILLed after that still has it delivered).
    if (!this.post({ type: 'sync', groups: s.groups, cgroups: s.cgroups }, ready)) ready();
    this.sentSocket = undefined;
    this.sendSocket();
  }

  /** A stopped reaper cannot kill anything: continue it at once (nothing but an agent stops it). */
  private check(): void {
    const pid = this.sub.pid;
    if (!pid || this.closing || this.sub.exitCode !== null || this.sub.signalCode !== null) return;
    this.sendSocket();
    let state: string;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      state = stat.charAt(stat.lastIndexOf(')') + 2);
    } catch {
      return;
    }
    if (state !== 'T') return;
    try {
      process.kill(pid, 'SIGCONT');
      this.o.events?.emit({ type: 'reaper.stopped', pid });
    } catch {
      // gone: the exit handler restarts it
    }
  }

  private sentSocket: string | undefined;
  private sendSocket(): void {
    const path = this.o.socket?.();
    if (path && path !== this.sentSocket && this.sub.connected) {
      this.sentSocket = path;
      this.post({ type: 'socket', path });
    }
  }

  get pid(): number | undefined {
    return this.sub.pid;
  }

  /** Times the reaper was started again after it died. */
  get restarts(): number {
    return this.restartsN;
  }

  /** Resolves once the current reaper process is ready and was sent everything tracked (never rejects). */
  get ready(): Promise<void> {
    return this.readyP;
  }

  /** Resolves once the current reaper process has exited. */
  get exited(): Promise<void> {
    return this.exitedP;
  }

  /** Kill group `pgid` if the kernel dies, while its leader is still the process that started at `start` (pid-identity.ts). */
  track(pgid: number, start: string): void {
    this.groups.set(pgid, start);
    this.post({ type: 'track', pgid, start });
  }

  untrack(pgid: number): void {
    this.groups.delete(pgid);
    this.post({ type: 'untrack', pgid });
  }

  /** Kill this cgroup directory (absolute, below /sys/fs/cgroup) if the kernel dies: via cgroup.kill, else its cgroup.procs. */
  trackCgroup(path: string): void {
    this.cgroups.add(path);
    this.post({ type: 'track-cgroup', path });
  }

  untrackCgroup(path: string): void {
    this.cgroups.delete(path);
    this.post({ type: 'untrack-cgroup', path });
  }

  /** SIGKILL every tracked group and cgroup now (a second Ctrl-C, a shutdown past its bound). */
  killAll(): void {
    this.post({ type: 'kill-all' });
  }

  /**
   * Orderly end: the kernel lives and writes its own report. The reaper kills what is still tracked and
   * exits; one that does not leave within 2 s is SIGKILLed. Idempotent.
   */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.watch);
    // Hold the event loop until the reaper has really exited (no zombie left behind).
    this.sub.ref();
    // 'done' must arrive before the channel ends, or the reaper takes the kernel for lost.
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 500);
      const sent = (): void => {
        clearTimeout(t);
        resolve();
      };
      if (!this.post({ type: 'done' }, sent)) sent();
    });
    if (this.sub.connected) this.sub.disconnect();
    // A stopped reaper would never read its channel's end.
    // Only while unreaped: once its exit was seen the number may be someone else's.
    if (this.sub.pid && this.sub.exitCode === null && this.sub.signalCode === null) {
      try {
        process.kill(this.sub.pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    const timer = setTimeout(() => this.sub.kill('SIGKILL'), 2_000);
    await this.exitedP;
    clearTimeout(timer);
  }

  /** Send if connected; false when it could not be sent (`sent` is then never called). */
  private post(m: ToReaper, sent?: () => void): boolean {
    if (!this.sub.connected) return false;
    try {
      this.sub.send(m, sent ? () => sent() : undefined);
      return true;
    } catch {
      // reaper gone: the exit handler starts another and tells it everything
      return false;
    }
  }
}
