/**
 * Test harness: spawn a REAL agent process with the channel on fd 3 and talk to it through
 * src/protocol/channel.ts (from dist/), as the kernel will. Every process started here is its own process
 * group (detached) and is killed by group in `killAll()` (afterEach); never by name.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { KernelChannel, type ChannelMessage, type ChannelOptions } from '../../src/protocol/channel.js';
import { ROOT, pidAlive, waitFor } from '../helpers.js';

export const NODE_AGENT = join(ROOT, 'test/fixtures/channel/node-agent.mjs');
export const PY_HOST = join(ROOT, 'sdk/python/agentos_host.py');
export const PY_FIXTURES = join(ROOT, 'test/fixtures/python');
export const PYTHON = process.env.AGENTOS_PYTHON ?? 'python3';

/** Whether python3 runs here; when it does not, Python tests skip (or fail when AGENTOS_REQUIRE_OPTIONAL=1). */
export function pythonAvailable(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)'], { stdio: 'ignore' });
  return r.status === 0;
}

export interface Agent {
  child: ChildProcess;
  pid: number;
  channel: KernelChannel;
  messages: ChannelMessage[];
  violations: string[];
  /** Kernel-side errors the channel reported (onError), e.g. send() after close. */
  errors: Error[];
  stderr: () => string;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first message (already received or to come) matching `pred`. */
  next: (pred: string | ((m: ChannelMessage) => boolean), timeoutMs?: number) => Promise<ChannelMessage>;
  /** Answer every `call` with `reply(call)`'s value, or its error when it returns { error }. */
  answerCalls: (reply: (call: ChannelMessage) => { value?: unknown; error?: { name: string; message: string; code?: string } }) => void;
}

const started: ChildProcess[] = [];

/** Start one agent process: `command args...` with fd 3 as the channel and a minimal environment. */
export function startAgent(command: string, args: string[], env: Record<string, string>, opts: Partial<Pick<ChannelOptions, 'maxFrameBytes'>> = {}): Agent {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    detached: true, // its own process group, so cleanup can end it and anything it started
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', AGENTOS_CHANNEL_FD: '3', AGENTOS_PROTOCOL: '1', ...env },
  });
  started.push(child);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const messages: ChannelMessage[] = [];
  const violations: string[] = [];
  const errors: Error[] = [];
  const waiters: Array<{ pred: (m: ChannelMessage) => boolean; resolve: (m: ChannelMessage) => void }> = [];
  let onCall: ((m: ChannelMessage) => void) | undefined;
  const channel = new KernelChannel(child.stdio[3] as Duplex, {
    ...opts,
    onMessage(m) {
      messages.push(m);
      if (m.type === 'call' && onCall) onCall(m);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.pred(m)) waiters.splice(i, 1)[0]!.resolve(m);
      }
    },
    onViolation(reason) {
      violations.push(reason);
    },
    onError(err) {
      errors.push(err);
    },
  });
  const agent: Agent = {
    child,
    pid: child.pid,
    channel,
    messages,
    violations,
    errors,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    next(p, timeoutMs = 20_000) {
      const pred = typeof p === 'string' ? (m: ChannelMessage) => m.type === p : p;
      const seen = messages.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; stderr: ${stderr}; violations: ${violations.join('; ')}`)), timeoutMs);
        waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
    answerCalls(reply) {
      onCall = (m) => {
        const r = reply(m);
        channel.send(r.error ? { type: 'reply', callId: m.callId, ok: false, error: r.error } : { type: 'reply', callId: m.callId, ok: true, value: r.value });
      };
    },
  };
  return agent;
}

export function startNodeAgent(env: Record<string, string> = {}, opts: Partial<Pick<ChannelOptions, 'maxFrameBytes'>> = {}): Agent {
  return startAgent(process.execPath, [NODE_AGENT], env, opts);
}

export function startPythonAgent(handler: string, env: Record<string, string> = {}, opts: { maxFrameBytes?: number; ulimitKb?: number } = {}): Agent {
  const full = { AGENTOS_HANDLER: join(PY_FIXTURES, handler), AGENTOS_AGENT: 'py', AGENTOS_INSTANCE: '2', AGENTOS_RUN: 'test', ...env };
  const channelOpts = opts.maxFrameBytes === undefined ? {} : { maxFrameBytes: opts.maxFrameBytes };
  if (opts.ulimitKb === undefined) return startAgent(PYTHON, [PY_HOST], full, channelOpts);
  // An address-space limit so an injected oom stays bounded; `exec` keeps the pid (and fd 3).
  return startAgent('/bin/sh', ['-c', `ulimit -v ${opts.ulimitKb} && exec "$0" "$@"`, PYTHON, PY_HOST], full, channelOpts);
}

/** CPU time a process has used, in clock ticks (utime + stime from /proc/PID/stat). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** Wait until `pid` has burnt `ticks` more CPU ticks than now: proof that a busy loop is running. */
export async function waitBusy(pid: number, ticks = 20): Promise<void> {
  const start = cpuTicks(pid);
  await waitFor(() => cpuTicks(pid) - start >= ticks, 20_000, `pid ${pid} to spin`);
}

/** A task frame as the kernel sends it. */
export function task(requestId: string, input: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'task', requestId, taskId: `t-${requestId}`, attempt: 1, key: `key-${requestId}`, input, deps: {}, ...extra };
}

/** SIGKILL every started process group that is still there and wait until each pid is gone. */
export async function killAll(): Promise<void> {
  const pids: number[] = [];
  for (const child of started.splice(0)) {
    if (child.pid === undefined) continue;
    pids.push(child.pid);
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  await waitFor(() => pids.every((p) => !pidAlive(p)), 10_000, `test agents ${pids.join(', ')} to exit`);
}
