/**
 * The child side of a Node agent process: opens the channel on fd 3 (worker/channel.ts), loads the
 * agent's handler, reports ready (`protocol: 1`, `runtime: 'node'`), then runs one task at a time. Every
 * message to the kernel respects backpressure (ctx.log resolves once the socket has room). Start-up stays
 * lean on purpose (node builtins and the protocol constants only): every millisecond here is paid on
 * each spawn and restart.
 */
import { pathToFileURL } from 'node:url';
import { PROTOCOL_VERSION } from '../src/protocol/frames.js';
import {
  BRAND,
  ENV,
  type AgentMessage,
  type KernelMessage,
  type ReplyMessage,
  type TaskMessage,
} from '../src/protocol/messages.js';
// Types only (erased at build): the ctx helpers below can name real syscall operations only.
import type { SyscallOp } from '../src/kernel-api/syscall-ops.js';
import { openChannel, type AgentChannel } from './channel.js';
import { encodeOutput, logData, logText, maxOutputBytes, toSafeWireError } from './values.js';

type Handler = (input: unknown, ctx: unknown) => unknown;

let channel: AgentChannel;
try {
  channel = openChannel();
} catch (err) {
  process.stderr.write(`agentos worker: ${(err as Error).message}\n`);
  process.exit(64);
}

/** Send one message; resolves once the socket has room again (await it to respect backpressure). */
const send = (m: AgentMessage): Promise<void> => channel.send(m);
const agent = process.env[ENV.agent] ?? 'agent';
const instance = process.env[ENV.instance] ?? '1';
const run = process.env[ENV.run] ?? '?';
process.title = `agentos-agent ${agent}#${instance} run=${run}`;

// The kernel is gone (exited or SIGKILLed): the channel's EOF ends this process (worker/channel.ts).

/** The largest output (JSON bytes) the kernel accepts from this agent (agent.yaml max_output_mb). */
const maxOutput = maxOutputBytes();

/** Pending syscalls of this process, by callId. */
const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let nextCallId = 1;

function syscall(task: TaskMessage, op: string, args?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callId = nextCallId++;
    calls.set(callId, { resolve, reject });
    void send({ ag: BRAND, type: 'call', callId, requestId: task.requestId, op, args });
  });
}

function onReply(m: ReplyMessage): void {
  const c = calls.get(m.callId);
  if (!c) return;
  calls.delete(m.callId);
  if (m.ok) c.resolve(m.value);
  else {
    const err = new Error(m.error?.message ?? 'syscall failed') as Error & { code?: string };
    err.name = m.error?.name ?? 'SyscallError';
    err.code = m.error?.code;
    c.reject(err);
  }
}

function makeContext(task: TaskMessage): unknown {
  // Resolves once the line is handed over or buffered with room to spare: `await ctx.log(...)` slows a
  // heavy logger down to the kernel's pace instead of growing this process's memory.
  const log =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (msg: unknown, data?: unknown): Promise<void> =>
      send({ ag: BRAND, type: 'log', requestId: task.requestId, level, msg: logText(msg), data: logData(data, maxOutput) });
  const info = log('info');
  const call = (op: SyscallOp, args?: unknown): Promise<unknown> => syscall(task, op, args);
  return {
    /** Low-level syscall access (any name: unknown ones are answered E_UNKNOWN_SYSCALL); the named helpers below are the supported API. */
    syscall: (op: string, args?: unknown) => syscall(task, op, args),
    task: { id: task.taskId, attempt: task.attempt, key: task.key },
    /** Add a task to the running DAG: { id, agent, deps?, input? }. Rejects if the kernel refuses it. */
    spawn: (t: unknown) => call('task.spawn', t),
    /** End tasks this task spawned (running ones are killed): cancel(ids, reason?). */
    cancel: (tasks: unknown, reason?: string) => call('task.cancel', reason === undefined ? { tasks } : { tasks, reason }),
    /** Wait for tasks: { tasks, until: 'all' | 'first', field? } -> { winner, tasks: [{ id, state, output, error }] }. */
    wait: (args: unknown) => call('task.wait', args),
    /** The configured model (kernel-side): chat({ messages, max_tokens?, temperature? }); rejects E_NO_LLM when none. */
    llm: { chat: (args: unknown) => call('llm.chat', args) },
    agent: { name: agent, instance: Number(instance) },
    // ---- message bus: the kernel routes, stamps the sender and a per-pair sequence number ----
    /** Send to an agent name, an instance ('name#2') or a task id; resolves once queued (waits when the receiver's mailbox is full under 'block'). */
    send: (to: unknown, payload?: unknown) => call('bus.send', { to, payload }),
    /** Next message for this process/task: { from, to, topic, seq, payload, latency_ms }, or null after timeout_ms. */
    receive: (opts?: { timeout_ms?: number }) => call('bus.receive', opts ?? {}),
    /** Up to opts.max (default 64) messages in one round trip once at least one is there; [] after timeout_ms. */
    receiveMany: (opts?: { timeout_ms?: number; max?: number }) => call('bus.receive_many', opts ?? {}),
    publish: (topic: string, payload?: unknown) => call('bus.publish', { topic, payload }),
    subscribe: (topic: string) => call('bus.subscribe', { topic }),
    unsubscribe: (topic: string) => call('bus.unsubscribe', { topic }),
    /** To every agent instance with a live process (not this one). */
    broadcast: (payload?: unknown) => call('bus.broadcast', { payload }),
    // ---- context manager: shared blackboard, task-local memory, the budgeted context ----
    memory: {
      get: (key: string) => call('memory.get', { key }),
      set: (key: string, value: unknown) => call('memory.set', { key, value }),
      delete: (key: string) => call('memory.delete', { key }),
      list: (prefix?: string) => call('memory.list', prefix === undefined ? {} : { prefix }),
      local: {
        get: (key: string) => call('memory.local.get', { key }),
        set: (key: string, value: unknown) => call('memory.local.set', { key, value }),
        keys: () => call('memory.local.keys'),
      },
      /** Dependencies' outputs + shared memory, compressed into this agent's context_tokens. */
      context: (opts?: { prefix?: string; keys?: string[]; budget?: number }) => call('memory.context', opts ?? {}),
    },
    tokens: { count: (text: string) => call('tokens.count', { text }) },
    // ---- KV-cache page store (pages live in the kernel; sequences belong to this process) ----
    kv: {
      create: (tokens?: number[]) => call('kv.create', tokens === undefined ? {} : { tokens }),
      append: (seq: string, tokens: number[]) => call('kv.append', { seq, tokens }),
      fork: (seq: string) => call('kv.fork', { seq }),
      free: (seq: string) => call('kv.free', { seq }),
      read: (seq: string, start?: number, end?: number) => call('kv.read', { seq, start, end }),
      stats: () => call('kv.stats'),
    },
    deps: task.deps,
    log: Object.assign((msg: unknown, data?: unknown) => info(msg, data), {
      debug: log('debug'),
      info,
      warn: log('warn'),
      error: log('error'),
    }),
  };
}

/**
 * A denial by Node's permission model (the agent's sandbox), found on the error or its causes: a message
 * naming the denied access, or undefined for any other error.
 */
function accessDenied(err: unknown): string | undefined {
  try {
    return findDenial(err);
  } catch {
    return undefined; // a proxy or a throwing getter: not a denial of ours
  }
}

function findDenial(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const d = e as { code?: unknown; permission?: unknown; resource?: unknown };
    if (d.code === 'ERR_ACCESS_DENIED') {
      const what = typeof d.permission === 'string' ? d.permission : 'access';
      const where = typeof d.resource === 'string' && d.resource ? ` to ${d.resource}` : '';
      return `sandbox: ${what} denied${where} (not allowed by the agent.yaml sandbox section)`;
    }
  }
  return undefined;
}

async function runTask(handler: Handler, task: TaskMessage): Promise<void> {
  const base = { ag: BRAND, type: 'result', requestId: task.requestId, taskId: task.taskId } as const;
  let output: unknown;
  try {
    // Loaded only when a fault is injected: start-up stays one module lighter for real agents.
    if (task.inject) await (await import('./faults.js')).commitFault(task.inject, channel);
    output = await handler(task.input, makeContext(task));
  } catch (err) {
    // Whatever was thrown (any shape at all) is the handler's failure: `exception`, never a crash.
    const denied = accessDenied(err);
    if (denied) void send({ ...base, ok: false, kind: 'sandbox', error: { ...toSafeWireError(err), message: denied } });
    else void send({ ...base, ok: false, kind: 'exception', error: toSafeWireError(err) });
    return;
  }
  const enc = encodeOutput(output, maxOutput);
  if (!enc.ok) {
    void send({ ...base, ok: false, kind: 'invalid_output', error: enc.error });
    return;
  }
  // The output was encoded once, above; the frame embeds that text.
  void channel.writeRaw(`${JSON.stringify({ ...base, ok: true }).slice(0, -1)},"output":${enc.json}}\n`);
}

async function main(): Promise<void> {
  let handler: Handler;
  try {
    const file = process.env[ENV.handler];
    if (!file) throw new Error(`${ENV.handler} is not set`);
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    if (typeof mod.default !== 'function') {
      throw new TypeError(`${file} has no default export function (export default async (input, ctx) => output)`);
    }
    handler = mod.default as Handler;
  } catch (err) {
    await send({ ag: BRAND, type: 'init_failed', error: toSafeWireError(err) });
    await channel.end();
    process.exit(78);
  }

  channel.onMessage((frame) => {
    const raw = frame as unknown as KernelMessage;
    if (raw.type === 'task') void runTask(handler, raw);
    else if (raw.type === 'reply') onReply(raw);
    else if (raw.type === 'shutdown') process.exit(0);
  });
  void send({ ag: BRAND, type: 'ready', pid: process.pid, protocol: PROTOCOL_VERSION, runtime: 'node' });
}

void main();
