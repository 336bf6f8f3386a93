/**
 * Backpressure on an agent's channel, the kernel's side (docs/protocol.md "Backpressure"): the kernel
 * stops reading an agent's fd 3 while it could not keep what the agent sends without growing —
 *  - a sink of the kernel is behind (the progress lines on a pipe to a slow reader: EventLog.sinkBehind),
 *  - the agent has MAX_CALLS_IN_FLIGHT syscalls waiting for their replies,
 *  - the agent does not read what the kernel writes (KernelChannel's own `write` hold).
 * The agent's writes then block on the full socket buffer: `await ctx.log(...)` runs at the kernel's
 * pace and the kernel's memory does not grow with the agent's volume.
 */
import type { AgentSpec } from '../config/agent-spec.js';
import type { EventLog } from '../kernel-api/events.js';
import type { KernelChannel } from '../protocol/channel.js';

/** Envelope allowed on top of max_output_mb in one agent -> kernel line (docs/protocol.md). */
const FRAME_ENVELOPE_BYTES = 64 * 1024;

/** The agent -> kernel line limit of an agent, in bytes. */
export function maxFrameBytes(spec: AgentSpec): number {
  return spec.max_output_mb * 1024 * 1024 + FRAME_ENVELOPE_BYTES;
}

/** Syscalls one process may have in flight before the kernel stops reading its channel. */
export const MAX_CALLS_IN_FLIGHT = 1024;

export class ChannelFlow {
  private calls = 0;
  private waitingSinks = false;

  constructor(
    private readonly channel: KernelChannel,
    private readonly events: EventLog,
  ) {}

  /** After each frame from the agent: while a sink of the kernel is behind, read no more. */
  afterMessage(): void {
    if (!this.events.behind || this.waitingSinks || this.channel.closed) return;
    this.waitingSinks = true;
    this.channel.pause('sinks');
    this.events.whenCaughtUp(() => {
      this.waitingSinks = false;
      this.channel.resume('sinks');
    });
  }

  /** A `call` is being answered. */
  callStarted(): void {
    if (++this.calls === MAX_CALLS_IN_FLIGHT) this.channel.pause('calls');
  }

  /** A `call` was answered (or failed). */
  callSettled(): void {
    if (this.calls-- === MAX_CALLS_IN_FLIGHT) this.channel.resume('calls');
  }
}
