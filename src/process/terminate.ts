/**
 * Staged termination of one agent's process group, in one place (after execa's lib/terminate/kill.js):
 * SIGTERM to the group, then SIGKILL after the grace unless the process exited first (the SIGKILL timer
 * is aborted on exit), or SIGKILL at once (memory, or a grace of 0). After the leader exits the group
 * gets one more SIGKILL, so a handler's own children never outlive it; at the SIGKILL stage the optional
 * hardKill ends the whole containment cell too (cgroup.kill, or the /proc walk), reaching descendants
 * that left the group (setsid, detached: true, double fork). The first reason given is the one
 * recorded: it decides the failure kind (exit-reason.ts).
 * Pid reuse: every signal goes to the group only while its leader is still the process that started at
 * `start` (pid-identity.ts); once the exit was seen the leader's number is never signalled alone.
 */
import { signalGroupIfSame, signalIfSame } from '../protocol/pid-identity.js';
import type { KillReason } from './exit-reason.js';

/**
 * Signal the process group led by (pid, start), falling back to that process alone (a leader that left
 * its group); nothing when the number now belongs to another process, or `start` is null. Never throws.
 */
export function signalGroup(pid: number, start: string | null, signal: NodeJS.Signals): void {
  if (pid <= 0 || start === null) return;
  if (signalGroupIfSame(pid, start, signal) === 'gone') signalIfSame(pid, start, signal);
}

/** Send SIGKILL to the group (and `hardKill`: the whole cell) after `ms` unless `signal` aborts first (the process exited). */
export function forceKillAfter(pid: number, start: string | null, ms: number, signal: AbortSignal, hardKill?: () => void): void {
  if (signal.aborted) return;
  const timer = setTimeout(() => {
    signalGroup(pid, start, 'SIGKILL');
    hardKill?.();
  }, ms);
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
}

export class Terminator {
  private readonly exitedCtl = new AbortController();
  private killArmed = false;
  private politeTimer: NodeJS.Timeout | undefined;
  private why: KillReason | undefined;
  private gone = false;

  /**
   * @param start the process's start time (/proc/<pid>/stat field 22) read right after spawn; null: never signalled.
   * @param graceMs SIGTERM -> SIGKILL delay (the agent's kill_grace_ms).
   * @param hardKill at the SIGKILL stage, also end the process's whole cell (descendants that left the group or session).
   */
  constructor(
    private readonly pid: number,
    private readonly start: string | null,
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
    // After the exit the number is free: what the group left is ended by exited() and the cell.
    if (this.gone) return;
    const immediate = reason === 'memory' || this.graceMs === 0;
    signalGroup(this.pid, this.start, immediate ? 'SIGKILL' : 'SIGTERM');
    if (immediate) this.hardKill?.();
    if (!immediate && !this.killArmed) {
      this.killArmed = true;
      forceKillAfter(this.pid, this.start, this.graceMs, this.exitedCtl.signal, this.hardKill);
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
    this.gone = true;
    this.exitedCtl.abort();
    clearTimeout(this.politeTimer);
    // The group only, and only while no other process holds the number (pid-identity.ts): the leader
    // was reaped, members it left keep the number reserved; one found under it is someone else's.
    if (this.pid <= 0 || this.start === null) return;
    signalGroupIfSame(this.pid, this.start, 'SIGKILL');
  }
}
