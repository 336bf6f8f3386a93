/**
 * Staged termination of one agent's process group, in one place (after execa's lib/terminate/kill.js):
 * SIGTERM to the group, then SIGKILL after the grace unless the process exited first (the SIGKILL timer
 * is aborted on exit), or SIGKILL at once (memory, or a grace of 0). After the leader exits the group
 * gets one more SIGKILL, so a handler's own children never outlive it; at the SIGKILL stage the optional
 * hardKill ends the whole containment cell too (cgroup.kill, or the /proc walk), reaching descendants
 * that left the group (setsid, detached: true, double fork). The first reason given is the one
 * recorded: it decides the failure kind (exit-reason.ts).
 */
import type { KillReason } from './exit-reason.js';

/** Signal a whole process group (falling back to the pid alone); never throws. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

/** Send SIGKILL to the group (and `hardKill`: the whole cell) after `ms` unless `signal` aborts first (the process exited). */
export function forceKillAfter(pid: number, ms: number, signal: AbortSignal, hardKill?: () => void): void {
  if (signal.aborted) return;
  const timer = setTimeout(() => {
    signalGroup(pid, 'SIGKILL');
    hardKill?.();
  }, ms);
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
}

export class Terminator {
  private readonly exitedCtl = new AbortController();
  private killArmed = false;
  private politeTimer: NodeJS.Timeout | undefined;
  private why: KillReason | undefined;

  /**
   * @param graceMs SIGTERM -> SIGKILL delay (the agent's kill_grace_ms).
   * @param hardKill at the SIGKILL stage, also end the process's whole cell (descendants that left the group or session).
   */
  constructor(
    private readonly pid: number,
    private readonly graceMs: number,
    private readonly hardKill?: () => void,
  ) {}

  /** Why the kernel ended this process, if it did (the first reason given). */
  get reason(): KillReason | undefined {
    return this.why;
  }

  /** Record a reason without signalling (the polite shutdown path). */
  note(reason: KillReason): void {
    this.why ??= reason;
  }

  /** SIGTERM then SIGKILL after the grace (memory or grace 0: SIGKILL at once). */
  terminate(reason: KillReason): void {
    this.why ??= reason;
    const immediate = reason === 'memory' || this.graceMs === 0;
    signalGroup(this.pid, immediate ? 'SIGKILL' : 'SIGTERM');
    if (immediate) this.hardKill?.();
    if (!immediate && !this.killArmed) {
      this.killArmed = true;
      forceKillAfter(this.pid, this.graceMs, this.exitedCtl.signal, this.hardKill);
    }
  }

  /**
   * The polite phase of a shutdown: the caller has asked the child to exit; if it is still there after
   * the grace, terminate it. Its own timer, so it never stands in for terminate()'s SIGKILL timer.
   */
  politeThen(reason: KillReason): void {
    this.politeTimer ??= setTimeout(() => this.terminate(reason), this.graceMs);
  }

  /** The leader exited: cancel pending timers and SIGKILL whatever is left in its group. */
  exited(): void {
    this.exitedCtl.abort();
    clearTimeout(this.politeTimer);
    // The group only: the leader's pid is free for reuse now, so never signal it alone.
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // group already empty
    }
  }
}
