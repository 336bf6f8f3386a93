/**
 * The public types of a handler's world: what `ctx` holds (exactly what worker/host.ts builds) and what
 * each call resolves to (the kernel's reply shapes, imported from the modules that produce them so they
 * cannot drift). A rejected call rejects with a {@link SyscallFailure} carrying the kernel's code.
 */
import type { Delivered } from '../bus/bus.js';
import type { Sender } from '../bus/mailbox.js';
import type { CompressionResult, PackedEntry } from '../context/compress.js';
import type { Writer } from '../context/memory.js';
import type { TaskSummary } from '../scheduler/task-syscalls.js';
import type { KvStats } from '../kvcache/store.js';
import type { ChatResult } from '../llm/openai.js';
import type { TaskState } from '../kernel-api/events.js';

export type { ChatResult, CompressionResult, KvStats, PackedEntry, Sender, TaskState, TaskSummary, Writer };

/** A JSON value: what inputs, outputs, payloads and memory values carry across the process boundary. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The task an attempt is for. */
export interface TaskInfo {
  /** Task id from the plan (or from ctx.spawn). */
  id: string;
  /** 1 for the first attempt; retries and fallbacks count on. */
  attempt: number;
}

/** The agent process running the handler. */
export interface AgentInfo {
  name: string;
  /** 1-based instance number (`instances:` in agent.yaml). */
  instance: number;
}

/** A message as ctx.receive() hands it over: sender stamped by the kernel, `seq` per sender -> receiver pair. */
export type BusMessage<P = unknown> = Omit<Delivered, 'payload'> & { payload: P };

/** Where ctx.send goes: an agent name, an instance ('name#2'), a task id, or the same as an object. */
export type Address = string | { agent?: string; instance?: number; task?: string };

export interface SendResult {
  seq: number;
  /** The mailbox it went to: `agent#instance` or `task:<id>`. */
  to: string;
  /** `dead_letter`: the receiving task had ended, or the run is ending. */
  status: 'queued' | 'dead_letter';
}

/** ctx.publish / ctx.broadcast: the mailboxes that accepted the message. */
export interface FanOutResult {
  delivered_to: string[];
}

export interface ReceiveOptions {
  /** @default 10000 (at most 3600000) */
  timeout_ms?: number;
}

export interface ReceiveManyOptions extends ReceiveOptions {
  /** @default 64 (at most 10000) */
  max?: number;
}

/** A task added to the running DAG by ctx.spawn. */
export interface SpawnTask {
  id: string;
  agent: string;
  deps?: string[];
  input?: unknown;
  /** Per-task attempt limit; never above the agent's own timeout_ms. */
  timeout_ms?: number;
  /** Per-task memory quota (MiB); never above the agent's own memory_mb. */
  memory_mb?: number;
}

export interface SpawnResult {
  id: string;
  state: TaskState;
}

export interface WaitOptions {
  tasks: string[];
  /** `all`: every task ended. `first`: the first that succeeded (with `field` true, if given). @default 'all' */
  until?: 'all' | 'first';
  /** Top-level boolean field of an output that makes it count for `first`. */
  field?: string;
}

export interface WaitResult {
  /** The task that satisfied `first`, else null. */
  winner: string | null;
  tasks: TaskSummary[];
}

export interface CancelResult {
  /** The tasks that were still running or waiting and are now cancelled. */
  cancelled: string[];
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  max_tokens?: number;
  temperature?: number;
}

/** A shared-memory (blackboard) entry as ctx.memory.get returns it. */
export interface MemoryEntry<V = unknown> {
  key: string;
  value: V;
  /** Starts at 1, +1 per write. */
  version: number;
  writer: Writer;
}

export type MemoryListing = Array<Omit<MemoryEntry, 'value'>>;

export interface ContextOptions {
  /** Only blackboard keys starting with this. @default '' (all) */
  prefix?: string;
  /** Only these blackboard keys (overrides prefix). */
  keys?: string[];
  /** A budget below the agent's `context_tokens` (never above). */
  budget?: number;
}

/** ctx.kv.stats(): the store's figures plus what this process holds. */
export interface KvStatsReply extends KvStats {
  mine: { pages: number; bytes: number };
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFn = (msg: unknown, data?: unknown) => void;

/** What a kernel call rejects with: `code` is the kernel's stable code (E_SCHEMA, E_MAILBOX_FULL, E_NO_LLM, ...). */
export interface SyscallFailure extends Error {
  code: string | undefined;
}

/**
 * The second argument of every handler. Every call goes to the kernel over the process's channel and
 * resolves with the kernel's answer, or rejects with a {@link SyscallFailure}.
 */
export interface AgentContext<Deps extends Record<string, unknown> = Record<string, unknown>> {
  task: TaskInfo;
  /** Outputs of this task's dependencies, by task id. */
  deps: Deps;
  agent: AgentInfo;
  /** Log into the run's event log (info); `.debug/.info/.warn/.error` pick the level. */
  log: LogFn & Record<LogLevel, LogFn>;
  /** Low-level syscall access by op name (e.g. 'bus.send'); the named helpers are the supported API. */
  syscall(op: string, args?: unknown): Promise<unknown>;
  /** Add a task to the running DAG. Rejects (E_SCHEMA, E_DUPLICATE_TASK, E_UNKNOWN_AGENT, ...) when the kernel refuses it. */
  spawn(task: SpawnTask): Promise<SpawnResult>;
  /** End tasks this task spawned (running ones are killed). Rejects E_PERMISSION for others' tasks. */
  cancel(tasks: string[], reason?: string): Promise<CancelResult>;
  /** Wait for tasks to end (or the first to succeed); while waiting, this task's slot goes to them. */
  wait(opts: WaitOptions): Promise<WaitResult>;
  /** The configured model, called by the kernel; rejects E_NO_LLM when none is configured. */
  llm: { chat(req: ChatRequest): Promise<ChatResult> };
  // ---- message bus ----
  /** Resolves once queued; under the `block` mailbox policy it waits for room. Rejects E_MAILBOX_FULL under `reject`. */
  send(to: Address, payload?: unknown): Promise<SendResult>;
  /** Next message for this process or task, or null after timeout_ms. */
  receive<P = unknown>(opts?: ReceiveOptions): Promise<BusMessage<P> | null>;
  /** Up to `max` messages in one round trip once at least one is there; [] after timeout_ms. */
  receiveMany<P = unknown>(opts?: ReceiveManyOptions): Promise<Array<BusMessage<P>>>;
  publish(topic: string, payload?: unknown): Promise<FanOutResult>;
  subscribe(topic: string): Promise<{ topic: string; slot: string }>;
  unsubscribe(topic: string): Promise<{ topic: string }>;
  /** To every agent instance with a live process (not this one). */
  broadcast(payload?: unknown): Promise<FanOutResult>;
  // ---- context manager ----
  memory: {
    /** The shared entry, or null when the key is not set. */
    get<V = unknown>(key: string): Promise<MemoryEntry<V> | null>;
    set(key: string, value: unknown): Promise<{ version: number }>;
    delete(key: string): Promise<{ deleted: boolean }>;
    list(prefix?: string): Promise<MemoryListing>;
    /** This task's own memory (other tasks cannot read it). */
    local: {
      /** The value, or null when unset. */
      get<V = unknown>(key: string): Promise<V | null>;
      set(key: string, value: unknown): Promise<{ ok: true }>;
      keys(): Promise<string[]>;
    };
    /** Dependencies' outputs + shared memory, compressed into this agent's context_tokens. */
    context(opts?: ContextOptions): Promise<CompressionResult>;
  };
  /** Tokens of `text` with the kernel's tokenizer (cl100k_base). */
  tokens: { count(text: string): Promise<number> };
  // ---- KV-cache page store (sequences belong to this process) ----
  kv: {
    create(tokens?: number[]): Promise<{ seq: string; length: number; prefix_hits: number }>;
    append(seq: string, tokens: number[]): Promise<{ length: number; cow_copies: number }>;
    fork(seq: string): Promise<{ seq: string; length: number }>;
    free(seq: string): Promise<{ freed: string }>;
    read(seq: string, start?: number, end?: number): Promise<{ tokens: number[]; checksum: string; length: number }>;
    stats(): Promise<KvStatsReply>;
  };
}

/**
 * An agent's handler: the default export of its module. Returns anything JSON can carry (undefined
 * becomes null); a throw fails the attempt with kind `exception`.
 */
export type Handler<Input = unknown, Output = unknown, Deps extends Record<string, unknown> = Record<string, unknown>> = (
  input: Input,
  ctx: AgentContext<Deps>,
) => Output | Promise<Output>;
