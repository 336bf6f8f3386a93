/**
 * NDJSON framing shared by both ends of the AgentOS channel (docs/protocol.md, "Framing").
 *
 * Node builtins only: the agent side (worker/channel.ts) imports this at start-up, so it must stay free of
 * zod and friends. Splitting is linear in the bytes received: each chunk is scanned once with
 * Buffer.indexOf, a line inside one chunk is decoded straight from that chunk, and a line spread over
 * several chunks is joined exactly once (Buffer.concat of its parts) when its newline arrives. A partial
 * line is never joined into a string while it grows, and it stops growing at `maxLineBytes`.
 */

/** The protocol version announced in `ready` (`protocol: 1`) and in env AGENTOS_PROTOCOL. */
export const PROTOCOL_VERSION = 1 as const;

/** Environment the kernel gives every agent process, whatever its language. */
export const CHANNEL_ENV = {
  /** The channel's file descriptor number (always "3" today). */
  fd: 'AGENTOS_CHANNEL_FD',
  /** The protocol version the kernel speaks ("1"). */
  protocol: 'AGENTOS_PROTOCOL',
  /** Optional: the agent -> kernel line limit in bytes, so an SDK can refuse an oversized output itself. */
  maxFrameBytes: 'AGENTOS_MAX_FRAME_BYTES',
} as const;

/** Default agent -> kernel line limit: `max_output_mb: 16` plus 64 KiB of envelope, in bytes. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024 + 64 * 1024;

const NL = 0x0a;

/** Receives the lines a LineSplitter finds. */
export interface LineSink {
  /**
   * One complete line (without its newline), decoded as UTF-8; `bytes` is its length in bytes.
   * Return false to stop: the splitter keeps the rest of the chunk until `resume()`.
   */
  line(text: string, bytes: number): boolean;
  /** A line grew past the limit; `bytes` is how much of it had arrived (> limit). The splitter stops. */
  overflow(bytes: number): void;
}

/** Splits a byte stream into lines of at most `maxLineBytes` bytes. Not reentrant; never throws. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** The unprocessed rest of a chunk, kept while the sink asked to stop. */
  private held: Buffer | undefined;
  private stopped = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly sink: LineSink,
  ) {}

  /** Bytes of an unfinished line held right now (0 at a line boundary). */
  get partialBytes(): number {
    return this.partBytes + (this.held?.length ?? 0);
  }

  /** True while the sink has stopped the splitter (or after an overflow). */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Feed one chunk. Returns false when the splitter is stopped (chunk held, or dropped after an overflow). */
  push(chunk: Buffer): boolean {
    if (this.stopped) {
      // Only reachable if the owner keeps feeding while stopped: hold everything, in order.
      this.held = this.held ? Buffer.concat([this.held, chunk]) : chunk;
      return false;
    }
    return this.scan(chunk);
  }

  /** Continue after the sink returned false; returns false if it stopped again. */
  resume(): boolean {
    if (!this.stopped) return true;
    this.stopped = false;
    const rest = this.held;
    this.held = undefined;
    return rest ? this.scan(rest) : true;
  }

  /** Drop everything held; the splitter stays stopped (used once a channel is closed or in violation). */
  discard(): void {
    this.parts = [];
    this.partBytes = 0;
    this.held = undefined;
    this.stopped = true;
  }

  private scan(chunk: Buffer): boolean {
    const max = this.maxLineBytes;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl === -1) break;
      let text: string;
      let bytes: number;
      if (this.partBytes === 0) {
        bytes = nl - start;
        if (bytes > max) return this.overflowed(bytes);
        text = chunk.toString('utf8', start, nl);
      } else {
        bytes = this.partBytes + (nl - start);
        if (bytes > max) return this.overflowed(bytes);
        this.parts.push(chunk.subarray(start, nl));
        text = Buffer.concat(this.parts, bytes).toString('utf8');
        this.parts = [];
        this.partBytes = 0;
      }
      start = nl + 1;
      if (!this.sink.line(text, bytes)) {
        if (this.stopped) return false; // the sink discarded us (violation/close) from inside line()
        this.stopped = true;
        if (start < chunk.length) this.held = chunk.subarray(start);
        return false;
      }
      if (this.stopped) return false;
    }
    const tail = chunk.length - start;
    if (tail > 0) {
      if (this.partBytes + tail > max) return this.overflowed(this.partBytes + tail);
      this.parts.push(start === 0 ? chunk : chunk.subarray(start));
      this.partBytes += tail;
    }
    return true;
  }

  private overflowed(bytes: number): false {
    this.discard();
    this.sink.overflow(bytes);
    return false;
  }
}

/** One message as a line: compact JSON plus '\n'. Throws TypeError for values JSON cannot encode (BigInt, cycles). */
export function encodeFrame(msg: object): string {
  const json = JSON.stringify(msg);
  if (typeof json !== 'string') throw new TypeError('a channel message must be a JSON object');
  return json + '\n';
}

/** A parsed line: a message object with a string `type`, or the reason it is not one. Never throws. */
export type DecodedFrame = { ok: true; message: Record<string, unknown> & { type: string } } | { ok: false; reason: string };

/** Parse one line into a message object (JSON object with a string `type`). Never throws. */
export function decodeFrame(text: string): DecodedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON (${(err as Error).message}): ${preview(text)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: `not a JSON object: ${preview(text)}` };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, reason: `message without a string "type": ${preview(text)}` };
  return { ok: true, message: value as Record<string, unknown> & { type: string } };
}

/** The start of a line for an error message: printable, at most 80 characters. */
export function preview(text: string): string {
  const head = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return JSON.stringify(head);
}
