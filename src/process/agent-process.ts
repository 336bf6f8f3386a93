/**
 * One agent process: spawned (spawn.ts), ready handshake with a time limit and a failure path
 * (timers.ts), one attempt at a time with its deadline, messages routed by routing.ts, staged
 * termination of the whole group (terminate.ts), and a typed account of how it ended (exit-reason.ts).
 * Its ACB changes only through kernel-api/acb.ts (the process state machine). The hot path (send a task,
 * receive its result) is the agent's own channel on fd 3 (src/protocol/channel.ts, docs/protocol.md):
 * a violation of its rules ends the process at once and fails the attempt as `protocol`; a channel the
 * agent closes while it lives fails the attempt at once as `crash` and the process is replaced.
 */
import type { ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import type { AgentSpec } from '../config/agent-spec.js';
import { assignTask, countRejected, finishTask, isLive, markEnded, markReady, newAcb, transition, type Acb } from '../kernel-api/acb.js';
import type { AttemptOutcome } from '../kernel-api/attempt-runner.js';
import type { EventLog } from '../kernel-api/events.js';
import type { SyscallTable } from '../kernel-api/syscalls.js';
import { KernelChannel, type ChannelCloseInfo } from '../protocol/channel.js';
import { BRAND, type FailureKind, type KernelMessage, type TaskMessage } from '../protocol/messages.js';
import { isolatedExit } from '../platform/isolation.js';
import { endCell, placeInCell, prepareCell } from './cell-hooks.js';
import { ChannelFlow, maxFrameBytes } from './channel-flow.js';
import type { AgentCell } from './containment/index.js';
import { classifyExit, type KillReason } from './exit-reason.js';
import { ProcessLog } from './logs.js';
import { hostPidOf } from './namespaces.js';
import type { ProcessContextOf } from './process-context.js';
import { exiting } from './proc-stat.js';
import { routeAgentMessage, type Routed } from './routing.js';
import { SpawnError, spawnAgent } from './spawn.js';
import { Terminator } from './terminate.js';
import { pidStart } from '../protocol/pid-identity.js';
import { armDeadline, ReadyGate } from './timers.js';

export { SpawnError } from './spawn.js';
export type { AttemptOutcome } from '../kernel-api/attempt-runner.js';
export { maxFrameBytes } from './channel-flow.js';

/** After the agent closed fd 3, how long its exit may take before it counts as a closed channel (a dying
 * process closes fd 3 a moment before its exit is seen, and the exit, e.g. SIGABRT, says more). */
const CHANNEL_EXIT_GRACE_MS = 150;

/** What an agent process needs from the kernel (process-context.ts). */
export type ProcessContext = ProcessContextOf<AgentProcess>;

export class AgentProcess implements Routed {
  readonly acb: Acb;
  readonly exited: Promise<void>;
  readonly events: EventLog;
  readonly syscalls: SyscallTable;
  private readonly child: ChildProcess;
  private readonly channel: KernelChannel | undefined;
  private readonly t0 = performance.now();
  private readonly log: ProcessLog;
  private readonly term: Terminator;
  private readonly gate = new ReadyGate();
  private deadline: NodeJS.Timeout | undefined;
  private pending: { msg: TaskMessage; timeoutMs: number; resolve: (o: AttemptOutcome) => void } | undefined;
  private exitOutcome: { kind: FailureKind; message: string } | undefined;
  private readonly flow: ChannelFlow | undefined;
  /** The spawned pid: the process group the kernel signals (under isolation: pid, the namespace's unshare). */
  private readonly groupPid: number;
  /** isolation: pid — the agent's own host pid, found at `ready` (acb.pid from then on). */
  private agentPid: number | undefined;
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
    const maxFrame = maxFrameBytes(spec);
    this.child = spawnAgent(spec, instance, { runId: ctx.runId, workerPath: ctx.workerPath, nodeFlags: ctx.nodeFlags?.(spec) ?? [], stdoutFd: this.log.fd, maxFrameBytes: maxFrame, wrapCommand: contained?.wrapCommand, extraEnv: contained?.extraEnv });
    const pid = this.child.pid ?? -1;
    this.groupPid = pid;
    if (pid > 0 && this.cell) placeInCell(this.cell, pid, spec.runtime === 'python', ctx.events);
    this.acb = newAcb(spec.name, instance, pid, restarts, spec.memory_mb);
    const cell = this.cell;
    // The leader's identity, read while it is surely ours (an unreaped child keeps its pid): every signal checks it.
    const start = pid > 0 ? pidStart(pid) : null;
    this.term = new Terminator(pid, start, spec.kill_grace_ms, cell ? () => void cell.killAll() : undefined);
    if (pid > 0 && start !== null) ctx.track(pid, start);
    this.log.follow(this.child.stderr);
    const sock = this.child.stdio[3] as Duplex | null | undefined;
    this.channel = sock
      ? new KernelChannel(sock, {
          maxFrameBytes: maxFrame,
          onMessage: (m) => {
            routeAgentMessage(this, m);
            this.flow?.afterMessage();
          },
          onViolation: (reason) => this.violation(reason),
          onClose: (info) => this.channelClosed(info),
          // send() after the channel closed: the close itself already failed the attempt
          onError: () => {},
        })
      : undefined;
    this.flow = this.channel ? new ChannelFlow(this.channel, ctx.events) : undefined;
    this.exited = new Promise<void>((resolve) => {
      let once = false;
      const done = (code: number | null, signal: NodeJS.Signals | null, why?: string): void => {
        if (once) return;
        once = true;
        void this.onExit(code, signal, why).then(resolve);
      };
      this.child.once('exit', (code, signal) => done(code, signal));
      // A spawn failure (no such interpreter) emits 'error' and no pid; it may emit no 'exit'.
      this.child.on('error', (err) => {
        if (this.child.pid === undefined) done(null, null, `could not start ${spec.runtime === 'python' ? 'the Python interpreter' : 'node'}: ${err.message}`);
      });
    });
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
      if (!this.channel || this.channel.closed) {
        this.channelLost('channel closed before the task could be sent');
        return;
      }
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
    if (!this.alive || !this.channel || this.channel.closed) return;
    this.channel.send(msg);
  }

  /** Channel counters (frames, bytes, violations, backpressure waits). */
  get channelStats(): KernelChannel['stats'] | undefined {
    return this.channel?.stats;
  }

  // ---- Routed: what routing.ts calls --------------------------------------------------------

  callStarted(): void {
    this.flow?.callStarted();
  }

  callSettled(): void {
    this.flow?.callSettled();
  }

  current(): TaskMessage | undefined {
    return this.pending?.msg;
  }

  ownPid(pid: number): boolean {
    if (this.spec.isolation !== 'pid') return pid === this.acb.pid;
    // In its PID namespace the agent knows only its namespace pid: find the host pid it stands for.
    this.agentPid = hostPidOf(this.groupPid, pid);
    return this.agentPid !== undefined;
  }

  handshakeDone(_runtime: string | undefined): void {
    markReady(this.acb, Math.round((performance.now() - this.t0) * 100) / 100, this.agentPid);
    this.events.emit({ type: 'process.ready', agent: this.acb.agent, instance: this.acb.instance, pid: this.pid, ready_ms: this.acb.ready_ms! });
    this.gate.resolve();
  }

  initFailed(message: string): void {
    this.events.emit({ type: 'process.init_failed', agent: this.acb.agent, instance: this.acb.instance, pid: this.pid, message });
    this.gate.reject(new SpawnError(`${this.spec.name} failed to start: ${message}`));
    // Not a clean stop: the pool counts it as a restart, so an agent that never starts opens its circuit.
    this.terminate('init_failed');
  }

  violation(reason: string): void {
    if (!this.alive) return;
    countRejected(this.acb);
    this.events.emit({ type: 'ipc.rejected', agent: this.acb.agent, instance: this.acb.instance, pid: this.pid, reason });
    // No further line is read; the group ends now; the attempt fails without waiting for the exit.
    this.channel?.destroy();
    const message = `protocol violation: ${reason}`;
    this.exitOutcome = { kind: 'protocol', message };
    if (this.acb.state === 'starting') this.gate.reject(new SpawnError(`${this.spec.name} broke the protocol during start-up: ${reason}`));
    this.terminate('protocol');
    this.finish({ ok: false, kind: 'protocol', message });
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

  /** The channel closed. Closed by the agent while it lives on: a crash (after a short grace for its exit). */
  private channelClosed(info: ChannelCloseInfo): void {
    if (info.byKernel || !this.alive) return;
    const why = info.error ? `channel closed (${info.error.message})` : 'channel closed by the agent';
    setTimeout(() => {
      if (this.alive && this.acb.state !== 'stopping' && !exiting(this.pid)) this.channelLost(why);
    }, CHANNEL_EXIT_GRACE_MS).unref();
  }

  /** Fail the held attempt (if any) as a crash now and end the process; the pool replaces it. */
  private channelLost(why: string): void {
    const message = `${why}: the process can no longer be reached; process group terminated`;
    this.exitOutcome = { kind: 'crash', message };
    this.terminate('protocol');
    this.finish({ ok: false, kind: 'crash', message });
  }

  private async onExit(code: number | null, signal: NodeJS.Signals | null, spawnFailure?: string): Promise<void> {
    clearTimeout(this.deadline);
    this.channel?.destroy();
    // Whatever the handler started in the group dies with it; pending kill timers are void.
    this.term.exited();
    if (this.groupPid > 0) this.ctx.untrack(this.groupPid);
    // isolation: pid — the namespace's init shell reports a death by signal N as code 128 + N.
    if (this.spec.isolation === 'pid') ({ code, signal } = isolatedExit(code, signal));
    const [cellEnd] = await Promise.all([this.cell ? endCell(this.cell, this.events) : undefined, this.log.close(this.child.stderr)]);
    const killReason = this.term.reason;
    // A violation or a lost channel already said what happened; the exit only confirms it.
    this.exitOutcome ??= spawnFailure
      ? { kind: 'crash', message: spawnFailure }
      : classifyExit({ code, signal, killReason, stderrTail: this.log.tail, oomKilled: cellEnd?.oomKilled ?? false, cgroupLimitMb: this.spec.memory_mb }, this.pending?.timeoutMs ?? this.spec.timeout_ms, this.acb.quota_mb);
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
