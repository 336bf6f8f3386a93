/**
 * One agent process: spawn (execa, IPC, own process group), ready handshake with a time limit and a
 * failure path, one attempt at a time, staged termination of the whole group, and a typed account of
 * how it ended. The hot path (send a task, receive its result) uses the raw IPC channel.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { execaNode, type ResultPromise } from 'execa';
import type { AgentSpec } from '../config/agent-spec.js';
import type { EventLog } from '../observe/events.js';
import { BRAND, ENV, toWireError, type FailureKind, type KernelMessage, type TaskMessage } from '../protocol/messages.js';
import { parseAgentMessage } from '../protocol/validate.js';
import type { Acb } from './acb.js';
import { classifyExit, type KillReason } from './exit-reason.js';
import type { SyscallTable } from './syscalls.js';

export type AttemptOutcome =
  | { ok: true; output: unknown }
  | { ok: false; kind: FailureKind; message: string; stack?: string | undefined };

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
}

export class SpawnError extends Error {
  readonly code = 'E_SPAWN';
  constructor(message: string) {
    super(message);
    this.name = 'SpawnError';
  }
}

const STDERR_TAIL = 8 * 1024;
/** After exit, how long to wait for the rest of stderr (the heap-limit report) before classifying. */
const STDERR_DRAIN_MS = 250;

export class AgentProcess {
  readonly acb: Acb;
  readonly exited: Promise<void>;
  private readonly sub: ResultPromise;
  private readonly t0 = performance.now();
  private stderrTail = '';
  private killReason: KillReason | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private attemptTimer: NodeJS.Timeout | undefined;
  private pending: { msg: TaskMessage; timeoutMs: number; resolve: (o: AttemptOutcome) => void } | undefined;
  private readyWaiter: { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private logFd: number | undefined;
  private exitOutcome: { kind: FailureKind; message: string } | undefined;

  constructor(
    readonly spec: AgentSpec,
    instance: number,
    restarts: number,
    private readonly ctx: ProcessContext,
  ) {
    // The child's stdout goes straight to its log file (no pipe through the kernel).
    this.logFd = openSync(ctx.logDir ? join(ctx.logDir, `${spec.name}#${instance}.log`) : '/dev/null', 'a');
    const title = `agentos-agent ${spec.name}#${instance} run=${ctx.runId}`;
    this.sub = execaNode(ctx.workerPath, title.split(' '), {
      nodeOptions: [`--max-old-space-size=${spec.memory_mb}`, ...(ctx.nodeFlags?.(spec) ?? [])],
      ipc: true,
      serialization: 'json',
      detached: true, // own process group: one kill reaches the handler's grandchildren too
      cleanup: false, // the kernel and its reaper end agents (execa's cleanup ignores detached anyway)
      reject: false,
      buffer: false,
      stdin: 'ignore',
      // execa passes any fd number through to spawn; its types only admit the literals 3-9 here.
      stdout: this.logFd as unknown as 'ignore',
      stderr: 'pipe',
      env: {
        [ENV.handler]: spec.handlerPath,
        [ENV.agent]: spec.name,
        [ENV.instance]: String(instance),
        [ENV.run]: ctx.runId,
      },
    });
    const pid = this.sub.pid ?? -1;
    this.acb = {
      agent: spec.name,
      instance,
      pid,
      state: 'starting',
      task: null,
      served: 0,
      restarts,
      rss_mb: 0,
      cpu: 0,
      peak_rss_mb: 0,
      quota_mb: spec.memory_mb,
      mailbox_depth: 0,
      tokens_used: 0,
      kv_pages: 0,
      kv_bytes: 0,
      rejected_messages: 0,
      ready_ms: null,
      exit: null,
    };
    if (pid > 0) ctx.track(pid);
    this.sub.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL);
      if (this.logFd !== undefined) writeSync(this.logFd, chunk);
    });
    this.sub.on('message', (raw: unknown) => this.onMessage(raw));
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
    return this.killReason;
  }

  get alive(): boolean {
    return this.acb.state !== 'exited' && this.acb.state !== 'crashed';
  }

  /** Resolves when the child reported ready; rejects (and ends the child) on init failure or time limit. */
  ready(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.acb.state === 'idle') return resolve();
      if (!this.alive) return reject(new SpawnError(`${this.spec.name} exited before it was ready`));
      const timer = setTimeout(() => {
        this.readyWaiter = undefined;
        this.terminate('ready_timeout');
        reject(new SpawnError(`${this.spec.name} did not report ready within ${this.spec.ready_timeout_ms} ms`));
      }, this.spec.ready_timeout_ms);
      this.readyWaiter = { resolve, reject, timer };
    });
  }

  /** Run one attempt. Never rejects: every way it can end is an outcome. */
  run(msg: TaskMessage, timeoutMs: number): Promise<AttemptOutcome> {
    return new Promise<AttemptOutcome>((resolve) => {
      if (this.acb.state !== 'idle') {
        resolve({ ok: false, kind: 'crash', message: `process ${this.pid} is ${this.acb.state}, not idle` });
        return;
      }
      this.pending = { msg, timeoutMs, resolve };
      this.acb.state = 'busy';
      this.acb.task = msg.taskId;
      this.acb.served++;
      // Timers run before I/O in each event-loop turn, so on a loaded kernel the deadline can fire while
      // the child's result already sits in the IPC pipe. Read the pipe once more (setImmediate runs after
      // the poll phase) and kill only if the attempt is still open: otherwise a loaded kernel kills
      // healthy processes that answered in time, and each restart adds load (measured: 100 agents x
      // 2,000 tasks at R = 0.1 went from 1,198 restarts for 200 faults to 150, CPU from 366 s to 133 s).
      this.attemptTimer = setTimeout(() => {
        this.attemptTimer = undefined;
        setImmediate(() => {
          if (this.pending?.msg === msg) this.terminate('timeout');
        });
      }, timeoutMs);
      this.sendRaw(msg);
    });
  }

  /**
   * End the process group: SIGTERM, then SIGKILL after the grace (memory: SIGKILL at once).
   * The first reason given is the one recorded.
   */
  terminate(reason: KillReason): void {
    if (!this.alive) return;
    this.killReason ??= reason;
    this.acb.state = 'stopping';
    const immediate = reason === 'memory' || this.spec.kill_grace_ms === 0;
    this.signalGroup(immediate ? 'SIGKILL' : 'SIGTERM');
    if (!immediate && !this.killTimer) {
      this.killTimer = setTimeout(() => this.signalGroup('SIGKILL'), this.spec.kill_grace_ms);
    }
  }

  /** Ask politely (IPC), then terminate after the grace. Resolves when the process is gone. */
  async stop(): Promise<void> {
    if (!this.alive) return this.exited;
    this.killReason ??= 'shutdown';
    if (this.acb.state === 'idle' || this.acb.state === 'starting') {
      this.sendRaw({ ag: BRAND, type: 'shutdown' });
      this.acb.state = 'stopping';
      // The polite phase's timer must not stand in for terminate()'s own SIGKILL timer: clear it first,
      // or a process that ignores the shutdown message and SIGTERM would never get its SIGKILL.
      this.killTimer ??= setTimeout(() => {
        this.killTimer = undefined;
        this.terminate('shutdown');
      }, this.spec.kill_grace_ms);
    } else {
      this.terminate('shutdown');
    }
    return this.exited;
  }

  /** Send a message to the child (no-op once the channel is closed). */
  sendRaw(msg: KernelMessage): void {
    if (!this.alive) return;
    try {
      this.sub.send(msg);
    } catch {
      // channel already closed: the exit handler accounts for the attempt
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      try {
        process.kill(this.pid, signal);
      } catch {
        // gone already
      }
    }
  }

  private reject(reason: string): void {
    this.acb.rejected_messages++;
    this.ctx.events.emit({ type: 'ipc.rejected', agent: this.acb.agent, instance: this.acb.instance, pid: this.pid, reason });
    // A process that floods the kernel with junk is ended rather than served.
    if (this.acb.rejected_messages > 1000) this.terminate('protocol');
  }

  private onMessage(raw: unknown): void {
    try {
      this.handleMessage(raw);
    } catch (err) {
      // Whatever a child sends must never throw into the kernel.
      this.reject(`message could not be handled: ${(err as Error).message}`);
    }
  }

  private handleMessage(raw: unknown): void {
    const parsed = parseAgentMessage(raw);
    if (!parsed.ok) return this.reject(parsed.reason);
    const m = parsed.message;
    switch (m.type) {
      case 'ready': {
        if (this.acb.state !== 'starting' || m.pid !== this.pid) return this.reject(`unexpected ready (pid ${m.pid}) in state ${this.acb.state}`);
        this.acb.state = 'idle';
        this.acb.ready_ms = Math.round((performance.now() - this.t0) * 100) / 100;
        this.ctx.events.emit({ type: 'process.ready', agent: this.acb.agent, instance: this.acb.instance, pid: this.pid, ready_ms: this.acb.ready_ms });
        const w = this.readyWaiter;
        if (w) {
          clearTimeout(w.timer);
          this.readyWaiter = undefined;
          w.resolve();
        }
        return;
      }
      case 'init_failed': {
        if (this.acb.state !== 'starting') return this.reject('init_failed after start-up');
        this.ctx.events.emit({ type: 'process.init_failed', agent: this.acb.agent, instance: this.acb.instance, pid: this.pid, message: m.error.message });
        const w = this.readyWaiter;
        this.readyWaiter = undefined;
        if (w) {
          clearTimeout(w.timer);
          w.reject(new SpawnError(`${this.spec.name} failed to start: ${m.error.message}`));
        }
        // Not a clean stop: the pool counts it as a restart, so an agent that never starts opens its circuit.
        this.terminate('init_failed');
        return;
      }
      case 'log': {
        const p = this.pending;
        if (!p || m.requestId !== p.msg.requestId) return this.reject('log for a request this process does not hold');
        this.ctx.events.emit({ type: 'task.log', task: p.msg.taskId, agent: this.acb.agent, level: m.level, msg: m.msg, data: m.data });
        return;
      }
      case 'call': {
        const p = this.pending;
        if (!p || m.requestId !== p.msg.requestId) {
          this.reject(`call '${m.op}' outside the attempt this process holds`);
          this.sendRaw({ ag: BRAND, type: 'reply', callId: m.callId, ok: false, error: { name: 'SyscallError', message: 'no task in progress for this call', code: 'E_NO_TASK' } });
          return;
        }
        const caller = { acb: this.acb, taskId: p.msg.taskId, attempt: p.msg.attempt };
        this.ctx.syscalls.invoke(m.op, caller, m.args).then(
          (value) => this.sendRaw({ ag: BRAND, type: 'reply', callId: m.callId, ok: true, value }),
          (err: unknown) => this.sendRaw({ ag: BRAND, type: 'reply', callId: m.callId, ok: false, error: toWireError(err) }),
        );
        return;
      }
      case 'result': {
        const p = this.pending;
        // Only the answer to the very request this process holds is accepted: a result for any other
        // task or attempt is a forgery (or a stale reply) and changes nothing.
        if (!p || m.requestId !== p.msg.requestId || m.taskId !== p.msg.taskId) {
          return this.reject(`result for ${m.taskId}/${m.requestId}, which this process does not hold`);
        }
        this.finishAttempt(m.ok ? { ok: true, output: m.output } : { ok: false, kind: m.kind, message: m.error.message, stack: m.error.stack });
        return;
      }
    }
  }

  private finishAttempt(outcome: AttemptOutcome): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(this.attemptTimer);
    this.attemptTimer = undefined;
    if (this.acb.state === 'busy') this.acb.state = 'idle';
    this.acb.task = null;
    p.resolve(outcome);
  }

  private async onExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    clearTimeout(this.attemptTimer);
    clearTimeout(this.killTimer);
    // Whatever the handler started in the group dies with it.
    if (this.pid > 0) {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // group already empty
      }
      this.ctx.untrack(this.pid);
    }
    await this.drainStderr();
    if (this.logFd !== undefined) {
      closeSync(this.logFd);
      this.logFd = undefined;
    }
    const expected = this.killReason === 'shutdown' && !this.pending;
    this.acb.state = expected ? 'exited' : 'crashed';
    this.acb.task = null;
    this.exitOutcome = classifyExit({ code, signal, killReason: this.killReason, stderrTail: this.stderrTail }, this.pending?.timeoutMs ?? this.spec.timeout_ms, this.acb.quota_mb);
    this.acb.exit = { code, signal, reason: this.killReason ?? this.exitOutcome.kind };
    const w = this.readyWaiter;
    if (w) {
      clearTimeout(w.timer);
      this.readyWaiter = undefined;
      w.reject(new SpawnError(`${this.spec.name} exited before it was ready (${this.exitOutcome.message})`));
    }
    this.ctx.events.emit({ type: 'process.exited', agent: this.acb.agent, instance: this.acb.instance, pid: this.pid, code, signal, reason: this.acb.exit.reason, state: this.acb.state });
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

  /** How the process ended, once it has. */
  get outcome(): { kind: FailureKind; message: string } | undefined {
    return this.exitOutcome;
  }

  private drainStderr(): Promise<void> {
    const stream = this.sub.stderr;
    if (!stream || stream.readableEnded || stream.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, STDERR_DRAIN_MS);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      stream.once('close', done);
      stream.once('end', done);
    });
  }
}
