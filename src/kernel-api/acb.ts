/**
 * The Agent Control Block: one record per agent process, the kernel's view of it (like an OS PCB).
 * Plain data, so it can be listed, serialised into the report and sent to a dashboard as is. Kernel code
 * changes it only through the functions below: the state through `transition()` (illegal moves throw),
 * the counters through one named update each, so every write to an ACB can be found in this file.
 */
import { AgentOSError } from '../errors.js';

/**
 * The lifecycle of an agent process:
 * - `starting`: spawned, handler loading; waits for the `ready` handshake.
 * - `idle`: ready, holds no attempt.
 * - `busy`: runs one attempt.
 * - `stopping`: the kernel asked it to end (shutdown message, SIGTERM, SIGKILL).
 * - `exited`: ended after a clean shutdown with no attempt open.
 * - `crashed`: ended any other way (crash, kill for timeout/memory/cancel, failed start).
 */
export type ProcState = 'starting' | 'idle' | 'busy' | 'stopping' | 'exited' | 'crashed';

/** Legal moves; the process's exit may end any live state. */
const NEXT: Readonly<Record<ProcState, readonly ProcState[]>> = {
  starting: ['idle', 'stopping', 'exited', 'crashed'],
  idle: ['busy', 'stopping', 'exited', 'crashed'],
  busy: ['idle', 'stopping', 'exited', 'crashed'],
  stopping: ['exited', 'crashed'],
  exited: [],
  crashed: [],
};

export interface Acb {
  agent: string;
  instance: number;
  pid: number;
  state: ProcState;
  /** Task the process is running now. */
  task: string | null;
  /** Attempts this process was given. */
  served: number;
  /** Restarts of this agent counted so far: when this process started, and once it died, including its own death (agrees with report agents[].restarts and metrics). */
  restarts: number;
  rss_mb: number;
  cpu: number;
  peak_rss_mb: number;
  quota_mb: number;
  /** Messages waiting in this instance's bus mailbox. */
  mailbox_depth: number;
  /** Tokens charged to this process (context handed to it; outputs when its agent has a token_budget). */
  tokens_used: number;
  /** KV-cache pages its sequences reference, and their bytes charged pro rata (shared pages split). */
  kv_pages: number;
  kv_bytes: number;
  /** Messages from the process that the kernel rejected (malformed, foreign, forged). */
  rejected_messages: number;
  ready_ms: number | null;
  exit: { code: number | null; signal: string | null; reason: string } | null;
  /** A warm spare (agent.yaml `standby`): ready, takes no task until a process of its agent dies. */
  standby?: boolean;
}

/** A fresh ACB for a process just spawned (state `starting`). */
export function newAcb(agent: string, instance: number, pid: number, restarts: number, quotaMb: number): Acb {
  return { agent, instance, pid, state: 'starting', task: null, served: 0, restarts, rss_mb: 0, cpu: 0, peak_rss_mb: 0, quota_mb: quotaMb, mailbox_depth: 0, tokens_used: 0, kv_pages: 0, kv_bytes: 0, rejected_messages: 0, ready_ms: null, exit: null };
}

/** True while the process exists (not `exited` or `crashed`). */
export function isLive(a: { state: ProcState }): boolean {
  return a.state !== 'exited' && a.state !== 'crashed';
}

export function canTransition(from: ProcState, to: ProcState): boolean {
  return NEXT[from].includes(to);
}

/** Move a process to its next state. Throws AgentOSError E_INTERNAL on an illegal move (a kernel bug). */
export function transition(acb: Acb, to: ProcState): void {
  if (!NEXT[acb.state].includes(to)) throw new AgentOSError('E_INTERNAL', `process ${acb.agent}#${acb.instance} (pid ${acb.pid}): illegal transition ${acb.state} -> ${to}`);
  acb.state = to;
}

/** `starting -> idle`, with the spawn-to-ready time in ms; `pid` is the agent's own pid when it differs from the one spawned (isolation: pid). */
export function markReady(acb: Acb, readyMs: number, pid?: number): void {
  transition(acb, 'idle');
  acb.ready_ms = readyMs;
  if (pid !== undefined) acb.pid = pid;
}

/** `idle -> busy` for one attempt of `task`. */
export function assignTask(acb: Acb, task: string): void {
  transition(acb, 'busy');
  acb.task = task;
  acb.served++;
}

/** The attempt ended while the process lives on (`busy -> idle`; a stopping process stays stopping). */
export function finishTask(acb: Acb): void {
  if (acb.state === 'busy') transition(acb, 'idle');
  acb.task = null;
}

/** The process is gone: `exited` after a clean shutdown, `crashed` otherwise. */
export function markEnded(acb: Acb, clean: boolean, exit: NonNullable<Acb['exit']>): void {
  transition(acb, clean ? 'exited' : 'crashed');
  acb.task = null;
  acb.exit = exit;
}

/** One quota-sampler reading: RSS of the process tree (MiB) and CPU (%). */
export function recordSample(acb: Acb, rssMb: number, cpu: number): void {
  acb.rss_mb = rssMb;
  acb.cpu = cpu;
  if (rssMb > acb.peak_rss_mb) acb.peak_rss_mb = rssMb;
}

/** The agent's restart count, recorded on the process whose death it counts. */
export function setRestarts(acb: Acb, restarts: number): void {
  acb.restarts = restarts;
}

/** Mark a ready process as a warm spare (true) or as one that takes tasks (false). */
export function setStandby(acb: Acb, standby: boolean): void {
  acb.standby = standby;
}

/** The RSS quota (MiB) the sampler enforces for the current attempt. */
export function setQuota(acb: Acb, quotaMb: number): void {
  acb.quota_mb = quotaMb;
}

export function setMailboxDepth(acb: Acb, depth: number): void {
  acb.mailbox_depth = depth;
}

export function chargeTokens(acb: Acb, tokens: number): void {
  acb.tokens_used += tokens;
}

export function setKvUsage(acb: Acb, pages: number, bytes: number): void {
  acb.kv_pages = pages;
  acb.kv_bytes = bytes;
}

/** Counts one rejected message; returns the new count. */
export function countRejected(acb: Acb): number {
  return ++acb.rejected_messages;
}

/** All ACBs of a run, live and ended, in spawn order. */
export class ProcessTable {
  private readonly rows: Acb[] = [];

  add(acb: Acb): void {
    this.rows.push(acb);
  }

  all(): readonly Acb[] {
    return this.rows;
  }

  live(): Acb[] {
    return this.rows.filter(isLive);
  }

  /** The live process with this pid, if any. */
  byPid(pid: number): Acb | undefined {
    for (let i = this.rows.length - 1; i >= 0; i--) if (this.rows[i]!.pid === pid) return this.rows[i];
    return undefined;
  }
}
