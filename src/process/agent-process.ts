/**
 * One agent process: spawned (spawn.ts), ready handshake with a time limit and a failure path
 * (timers.ts), one attempt at a time with its deadline, messages routed by routing.ts, staged
 * termination of the whole group (terminate.ts), and a typed account of how it ended (exit-reason.ts).
 * Its ACB changes only through kernel-api/acb.ts (the process state machine). The hot path (send a task,
 * receive its result) uses the raw IPC channel.
 */
import type { ResultPromise } from 'execa';
import type { AgentSpec } from '../config/agent-spec.js';
import { assignTask, countRejected, finishTask, isLive, markEnded, markReady, newAcb, transition, type Acb } from '../kernel-api/acb.js';
import type { AttemptOutcome } from '../kernel-api/attempt-runner.js';
import type { EventLog } from '../kernel-api/events.js';
import type { SyscallTable } from '../kernel-api/syscalls.js';
import { BRAND, type FailureKind, type KernelMessage, type TaskMessage } from '../protocol/messages.js';
import { endCell, prepareCell } from './cell-hooks.js';
import type { AgentCell } from './containment/index.js';
import { classifyExit, type KillReason } from './exit-reason.js';
import { ProcessLog } from './logs.js';
import { routeAgentMessage, type Routed } from './routing.js';
import { SpawnError, spawnAgent } from './spawn.js';
import { Terminator } from './terminate.js';
import { armDeadline, ReadyGate } from './timers.js';

export { SpawnError } from './spawn.js';
export type { AttemptOutcome } from '../kernel-api/attempt-runner.js';

export interface ProcessContext {
  runId: string;
  workerPath: string;
  events: EventLog;
  /** Directory for the process's stdout/stderr log; none: discarded. */
  logDir: string | undefined;
  /** Called once the process has ended, with the facts classified. */
  onExit(proc: AgentProcess): void;
  /** Operations the agent may call (ctx.* in handlers). */
  syscalls: SyscallTable;
  /** Extra node flags for this agent's processes (e.g. the permission model). */
  nodeFlags?: (spec: AgentSpec) => string[];
  /** Called once the process has ended, before onExit: kernel parts free what it held (KV pages...). */
  ended?(acb: Acb): void;
  /** Tell the reaper about a new process group (and when it is gone). */
  track(pgid: number): void;
  untrack(pgid: number): void;
  /** Containment: a new cell (cgroups or the /proc walk) for this process; none: process group only. */
  cell?(agent: string, instance: number): AgentCell;
}

/** A process that sends more rejected messages than this is ended rather than served. */
const MAX_REJECTED = 1000;

export class AgentProcess implements Routed {
  readonly acb: Acb;
  readonly exited: Promise<void>;
  readonly events: EventLog;
  readonly syscalls: SyscallTable;
  private readonly sub: ResultPromise;
  private readonly t0 = performance.now();
  private readonly log: ProcessLog;
  private readonly term: Terminator;
  private readonly gate = new ReadyGate();
  private deadline: NodeJS.Timeout | undefined;
  private pending: { msg: TaskMessage; timeoutMs: number; resolve: (o: AttemptOutcome) => void } | undefined;
  private exitOutcome: { kind: FailureKind; message: string } | undefined;
  /** The process's containment cell (cell-hooks.ts), if the runner gave one. */
  readonly cell: AgentCell | undefined;

  constructor(
    readonly spec: AgentSpec,
    instance: number,
    restarts: number,
    private readonly ctx: ProcessContext,
  ) {
    this.events = ctx.events;
    this.syscalls = ctx.syscalls;
    this.log = new ProcessLog(ctx.logDir, spec.name, instance, { maxBytes: spec.log_max_mb * 2 ** 20, onRotate: (bytes) => ctx.events.emit({ type: 'log.rotated', agent: spec.name, instance, stream: 'log', bytes }) });
    this.cell = ctx.cell?.(spec.name, instance);
    const contained = this.cell ? prepareCell(this.cell, spec, ctx.events) : undefined;
    this.sub = spawnAgent(spec, instance, { runId: ctx.runId, workerPath: ctx.workerPath, nodeFlags: ctx.nodeFlags?.(spec) ?? [], stdoutFd: this.log.fd, wrapCommand: contained?.wrapCommand, extraEnv: contained?.extraEnv });
    const pid = this.sub.pid ?? -1;
    if (pid > 0) this.cell?.adopt(pid);
    this.acb = newAcb(spec.name, instance, pid, restarts, spec.memory_mb);
    const cell = this.cell;
    this.term = new Terminator(pid, spec.kill_grace_ms, cell ? () => void cell.killAll() : undefined);
    if (pid > 0) ctx.track(pid);
    this.log.follow(this.sub.stderr);
    this.sub.on('message', (raw: unknown) => routeAgentMessage(this, raw));
    this.sub.on('error', () => {
      // spawn errors surface through 'exit'/the promise; the listener keeps them from being unhandled
    });
    this.exited = new Promise<void>((resolve) => {
      this.sub.once('exit', (code, signal) => {
        void this.onExit(code, signal).then(resolve);
      });
    });
    // execa's promise settles after exit; never let it reject unhandled
    this.sub.catch(() => {});
  }

  get pid(): number {
    return this.acb.pid;
  }

  /** Why the kernel ended this process, if it did. */
  get killedFor(): KillReason | undefined {
    return this.term.reason;
  }

  get alive(): boolean {
    return isLive(this.acb);
  }

  /** How the process ended, once it has. */
  get outcome(): { kind: FailureKind; message: string } | undefined {
    return this.exitOutcome;
  }

  /** Resolves when the child reported ready; rejects with SpawnError (and ends the child) on init failure or time limit. */
  ready(): Promise<void> {
    if (this.acb.state === 'idle') return Promise.resolve();
    if (!this.alive) return Promise.reject(new SpawnError(`${this.spec.name} exited before it was ready`));
    return this.gate.wait(this.spec.ready_timeout_ms, () => this.terminate('ready_timeout'), `${this.spec.name} did not report ready within ${this.spec.ready_timeout_ms} ms`);
  }

  /** Run one attempt. Never rejects: every way it can end is an outcome. */
  run(msg: TaskMessage, timeoutMs: number): Promise<AttemptOutcome> {
    return new Promise<AttemptOutcome>((resolve) => {
      if (this.acb.state !== 'idle') {
        resolve({ ok: false, kind: 'crash', message: `process ${this.pid} is ${this.acb.state}, not idle` });
        return;
      }
      this.pending = { msg, timeoutMs, resolve };
      assignTask(this.acb, msg.taskId);
      this.deadline = armDeadline(timeoutMs, () => this.pending?.msg === msg, () => this.terminate('timeout'));
      this.send(msg);
    });
  }

  /**
   * End the process group: SIGTERM, then SIGKILL after the grace (memory: SIGKILL at once).
   * The first reason given is the one recorded.
   */
  terminate(reason: KillReason): void {
    if (!this.alive) return;
    if (this.acb.state !== 'stopping') transition(this.acb, 'stopping');
    this.term.terminate(reason);
  }

  /** Ask politely (IPC), then terminate after the grace. Resolves when the process is gone. */
  async stop(): Promise<void> {
    if (!this.alive) return this.exited;
    this.term.note('shutdown');
    if (this.acb.state === 'idle' || this.acb.state === 'starting') {
      this.send({ ag: BRAND, type: 'shutdown' });
      transition(this.acb, 'stopping');
      this.term.politeThen('shutdown');
    } else {
      this.terminate('shutdown');
    }
    return this.exited;
  }

  /** Send a message to the child (no-op once the channel is closed). */
  send(msg: KernelMessage): void {
    if (!this.alive) return;
    try {
      this.sub.send(msg);
    } catch {
      // channel already closed: the exit handler accounts for the attempt
    }
  }

  // ---- Routed: what routing.ts calls --------------------------------------------------------

  current(): TaskMessage | undefined {
    return this.pending?.msg;
  }

  handshakeDone(): void {
    markReady(this.acb, Math.round((performance.now() - this.t0) * 100) / 100);
    this.events.emit({ type: 'process.ready', agent: this.acb.agent, instance: this.acb.instance, pid: this.pid, ready_ms: this.acb.ready_ms! });
    this.gate.resolve();
  }

  initFailed(message: string): void {
    this.events.emit({ type: 'process.init_failed', agent: this.acb.agent, instance: this.acb.instance, pid: this.pid, message });
    this.gate.reject(new SpawnError(`${this.spec.name} failed to start: ${message}`));
    // Not a clean stop: the pool counts it as a restart, so an agent that never starts opens its circuit.
    this.terminate('init_failed');
  }

  reject(reason: string): void {
    const n = countRejected(this.acb);
    this.events.emit({ type: 'ipc.rejected', agent: this.acb.agent, instance: this.acb.instance, pid: this.pid, reason });
    if (n > MAX_REJECTED) this.terminate('protocol');
  }

  finish(outcome: AttemptOutcome): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(this.deadline);
    this.deadline = undefined;
    finishTask(this.acb);
    p.resolve(outcome);
  }

  // ---- exit ---------------------------------------------------------------------------------

  private async onExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    clearTimeout(this.deadline);
    // Whatever the handler started in the group dies with it; pending kill timers are void.
    this.term.exited();
    if (this.pid > 0) this.ctx.untrack(this.pid);
    const [cellEnd] = await Promise.all([this.cell ? endCell(this.cell, this.events) : undefined, this.log.close(this.sub.stderr)]);
    const killReason = this.term.reason;
    const facts = { code, signal, killReason, stderrTail: this.log.tail, oomKilled: cellEnd?.oomKilled ?? false, cgroupLimitMb: this.spec.memory_mb };
    this.exitOutcome = classifyExit(facts, this.pending?.timeoutMs ?? this.spec.timeout_ms, this.acb.quota_mb);
    markEnded(this.acb, killReason === 'shutdown' && !this.pending, { code, signal, reason: killReason ?? this.exitOutcome.kind });
    this.gate.reject(new SpawnError(`${this.spec.name} exited before it was ready (${this.exitOutcome.message})`));
    this.events.emit({ type: 'process.exited', agent: this.acb.agent, instance: this.acb.instance, pid: this.pid, code, signal, reason: this.acb.exit!.reason, state: this.acb.state });
    try {
      this.ctx.ended?.(this.acb);
    } catch {
      // freeing what a dead process held must never stop its replacement
    }
    const p = this.pending;
    if (p) {
      this.pending = undefined;
      p.resolve({ ok: false, ...this.exitOutcome });
    }
    this.ctx.onExit(this);
  }
}
