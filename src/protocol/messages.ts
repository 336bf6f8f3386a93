/**
 * The whole kernel <-> agent protocol: a union tagged by a string `type`.
 *
 * Messages travel on the agent's own channel (fd 3, src/protocol/channel.ts). The kernel still writes the
 * old brand `ag: 1`; agents may send it or not, it is ignored.
 * This file holds only types and constants: the worker imports it at start-up, so it must stay free of
 * zod, pino and friends (the kernel-side validators live in ./validate.ts).
 */
import type { WireError } from '../errors.js';

/** Errors cross the boundary as `{name, message, stack, code}` (the one mapping is in src/errors.ts). */
export { toWireError, type WireError } from '../errors.js';

export const BRAND = 1 as const;

/** Failure kinds of one attempt: a closed set, extended only on purpose. */
export const FAILURE_KINDS = ['crash', 'timeout', 'memory', 'exception', 'invalid_output', 'token_quota', 'sandbox', 'cancelled', 'protocol', 'node_lost'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** Faults that `--inject` makes the real child commit. */
export const FAULTS = ['crash', 'exit', 'hang', 'oom', 'throw', 'garbage'] as const;
export type Fault = (typeof FAULTS)[number];

// ---- kernel -> agent -------------------------------------------------------------------------

export interface TaskMessage {
  ag: typeof BRAND;
  type: 'task';
  /** Unique per attempt; the reply must carry it back. */
  requestId: string;
  taskId: string;
  attempt: number;
  /** Idempotency key: stable across attempts and resumes of the task (docs/protocol.md). */
  key: string;
  input: unknown;
  deps: Record<string, unknown>;
  inject?: Fault | undefined;
}

export interface ShutdownMessage {
  ag: typeof BRAND;
  type: 'shutdown';
}

/** The kernel's answer to a `call` (a syscall) from the agent. */
export interface ReplyMessage {
  ag: typeof BRAND;
  type: 'reply';
  callId: number;
  ok: boolean;
  value?: unknown;
  error?: WireError;
}

export type KernelMessage = TaskMessage | ShutdownMessage | ReplyMessage;

// ---- agent -> kernel -------------------------------------------------------------------------

export interface ReadyMessage {
  ag: typeof BRAND;
  type: 'ready';
  pid: number;
  /** The protocol version the agent speaks (the kernel refuses any other). */
  protocol: number;
  /** `node`, `python`, ... (informational). */
  runtime: string;
}

export interface InitFailedMessage {
  ag: typeof BRAND;
  type: 'init_failed';
  error: WireError;
}

export interface ResultMessage {
  ag: typeof BRAND;
  type: 'result';
  requestId: string;
  taskId: string;
  ok: true;
  output: unknown;
}

export interface TaskErrorMessage {
  ag: typeof BRAND;
  type: 'result';
  requestId: string;
  taskId: string;
  ok: false;
  /** `sandbox`: the handler was denied an access by Node's permission model (ERR_ACCESS_DENIED). */
  kind: 'exception' | 'invalid_output' | 'sandbox';
  error: WireError;
}

export interface LogMessage {
  ag: typeof BRAND;
  type: 'log';
  requestId: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  data?: unknown;
}

/**
 * A syscall: the agent asks the kernel to do something on its behalf (send a message, read shared memory,
 * add a task, ...). `requestId` names the attempt it is made for; the kernel answers with a `reply`
 * carrying the same `callId`. Which `op`s exist is decided by the kernel's syscall table.
 */
export interface CallMessage {
  ag: typeof BRAND;
  type: 'call';
  callId: number;
  requestId: string;
  op: string;
  args?: unknown;
}

export type AgentMessage = ReadyMessage | InitFailedMessage | ResultMessage | TaskErrorMessage | LogMessage | CallMessage;

// ---- how the kernel tells the child who it is (environment, read once at start-up) -----------

export const ENV = {
  handler: 'AGENTOS_HANDLER',
  agent: 'AGENTOS_AGENT',
  instance: 'AGENTOS_INSTANCE',
  run: 'AGENTOS_RUN',
} as const;
