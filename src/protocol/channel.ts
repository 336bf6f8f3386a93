/**
 * The kernel side of an agent's channel: fd 3 of the child, a Unix stream socketpair that spawn's
 * `stdio[3] = 'pipe'` hands back as a net.Socket (docs/protocol.md).
 *
 * Why our own channel and not Node's IPC: Node's IPC reader acts on `NODE_*` messages before we see them,
 * joins a line of any length into one string and throws on garbage inside the kernel. Here every line is
 * bounded, parsed once and either delivered or reported as a violation, and after the first violation
 * the channel reads nothing more (the kernel then ends the process group).
 *
 * Nothing here throws into the event loop: socket errors, callback errors and misuse are reported through
 * the callbacks. Hot path: one indexOf scan per chunk, one JSON.parse per line, one socket write per tick.
 */
import type { Duplex } from 'node:stream';
import { DEFAULT_MAX_FRAME_BYTES, LineSplitter, decodeFrame, encodeFrame, type LineSink } from './frames.js';

/** A message from the agent: a JSON object with a string `type` (the kernel's zod schema checks the rest). */
export type ChannelMessage = Record<string, unknown> & { type: string };

/** How the channel ended: `partialBytes` of an unterminated last line (e.g. a process killed mid-write). */
export interface ChannelCloseInfo {
  error?: Error | undefined;
  partialBytes: number;
  /** True when the kernel closed it (close/destroy, or a violation), false when the agent's side went away. */
  byKernel: boolean;
}

export interface ChannelOptions {
  /** Longest agent -> kernel line in bytes, newline excluded (default 16 MiB + 64 KiB). */
  maxFrameBytes?: number;
  /** One message, in order. Called synchronously from the socket's 'data' handler. */
  onMessage: (message: ChannelMessage) => void;
  /**
   * The agent broke the framing rules: `reason` says which (not JSON, not an object, no string type, over
   * the size limit). Called at most once; the channel has already stopped reading and destroyed the socket.
   */
  onViolation: (reason: string) => void;
  /** The socket closed (EOF from the agent, an error, or close()/destroy()). Called once. */
  onClose?: (info: ChannelCloseInfo) => void;
  /** A kernel-side problem that is not the agent's fault (a callback threw, send() after close). Default: stderr. */
  onError?: (err: Error) => void;
}

/** Counters of one channel (bytes are UTF-8 bytes on the wire, newlines included). */
export interface ChannelStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  violations: number;
  /** Frames left unread because the kernel closed the channel while they were already received. */
  framesDropped: number;
  /** Writes that had to wait for 'drain' (the agent was not reading fast enough). */
  backpressureWaits: number;
  /** Times reading was paused (a sink of the kernel behind, syscalls in flight, writes waiting for 'drain'). */
  pauses: number;
}

/** The kernel's end of one agent's channel. */
export class KernelChannel {
  readonly stats: ChannelStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, violations: 0, framesDropped: 0, backpressureWaits: 0, pauses: 0 };
  private readonly splitter: LineSplitter;
  private queue: string[] = [];
  private flushScheduled = false;
  private waitingDrain = false;
  private paused = false;
  /** Why reading is paused (pause()/resume() reasons); reading goes on once it is empty. */
  private readonly holds = new Set<string>();
  private closing = false;
  private ended = false;
  private closeReported = false;
  private readonly opts: ChannelOptions;

  /** @param stream the child's stdio[3] (a net.Socket from spawn with `stdio: [..., 'pipe']`). */
  constructor(
    private readonly stream: Duplex,
    opts: ChannelOptions,
  ) {
    this.opts = opts;
    const sink: LineSink = {
      line: (text) => this.onLine(text),
      overflow: (bytes) => this.violate(`frame over the size limit: more than ${this.maxFrameBytes} bytes without a newline (${bytes} received)`),
    };
    this.splitter = new LineSplitter(this.maxFrameBytes, sink);
    stream.on('data', this.onData);
    stream.on('drain', this.onDrain);
    stream.on('error', this.onStreamError);
    stream.on('close', () => this.reportClose(undefined, false));
    // The agent's EOF: nothing more will come. End our side too, so the socket closes fully.
    stream.on('end', () => this.end());
  }

  get maxFrameBytes(): number {
    return this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** True once close()/destroy() ran, a violation ended the channel, or the agent's side went away. */
  get closed(): boolean {
    return this.ended;
  }

  /** Bytes queued for the agent and not yet handed to the socket (0 unless the agent is slow to read). */
  get queuedFrames(): number {
    return this.queue.length;
  }

  /**
   * Queue one message for the agent. Messages sent in the same tick go out in one socket write.
   * Returns false when the agent is not keeping up (the socket asked us to wait for 'drain') or the channel
   * is closed (then the message is dropped and reported through onError). Throws TypeError (synchronously,
   * to the caller) only for a message JSON cannot encode — a kernel bug.
   */
  send(message: object): boolean {
    if (this.ended || this.closing) {
      this.internalError(new Error(`send(${(message as { type?: unknown }).type as string}) on a closed agent channel: dropped`));
      return false;
    }
    const line = encodeFrame(message);
    this.stats.framesOut++;
    if (this.waitingDrain) {
      this.queue.push(line);
      return false;
    }
    if (!this.flushScheduled) {
      // The first message of a tick goes out at once (round-trip latency); the rest of the tick's
      // messages are joined into one write on nextTick (throughput).
      this.flushScheduled = true;
      process.nextTick(this.flush);
      this.writeOut(line);
      return !this.waitingDrain;
    }
    this.queue.push(line);
    return true;
  }

  /**
   * Stop reading from the agent (its writes then block once the socket buffer is full) until every
   * `reason` that paused it is resumed. Reasons are independent holds (the caller's, the channel's own
   * `write` hold while the agent does not read what the kernel sends); pausing twice for one reason is
   * one hold.
   */
  pause(reason = 'caller'): void {
    if (this.ended || this.holds.has(reason)) return;
    this.holds.add(reason);
    if (this.paused) return;
    this.paused = true;
    this.stats.pauses++;
    this.stream.pause();
  }

  /** Release `reason`'s hold; once none is left, read again: lines already received are delivered first, in order. */
  resume(reason = 'caller'): void {
    if (this.ended || !this.holds.delete(reason) || this.holds.size > 0 || !this.paused) return;
    this.paused = false;
    if (!this.splitter.resume()) return; // paused again, or a violation, from inside onMessage
    if (!this.paused && !this.ended) this.stream.resume();
  }

  /**
   * The kernel is done with this agent: deliver nothing more, write what is queued, then end our side
   * (the agent sees EOF and exits) and close the socket. Idempotent.
   */
  close(): void {
    if (this.ended || this.closing) return;
    this.closing = true;
    this.stopReading();
    if (this.waitingDrain) return; // onDrain finishes the close
    this.flush();
    this.end();
  }

  /** Close at once, dropping queued writes. Idempotent. */
  destroy(): void {
    if (this.ended) return;
    this.teardown();
    this.reportClose(undefined, true);
  }

  // ---- internals ----

  private readonly onData = (chunk: Buffer): void => {
    this.stats.bytesIn += chunk.length;
    if (this.closing || this.ended) return; // data still in flight after we stopped reading
    // When onMessage pauses, the splitter holds the rest of the chunk until resume().
    this.splitter.push(chunk);
  };

  private onLine(text: string): boolean {
    if (this.closing || this.ended) {
      this.stats.framesDropped++;
      return false;
    }
    const decoded = decodeFrame(text);
    if (!decoded.ok) {
      this.violate(decoded.reason);
      return false;
    }
    this.stats.framesIn++;
    try {
      this.opts.onMessage(decoded.message);
    } catch (err) {
      this.internalError(err instanceof Error ? err : new Error(String(err)));
    }
    // Stop this chunk's scan if the callback paused or closed the channel.
    return !this.paused && !this.closing && !this.ended;
  }

  private violate(reason: string): void {
    if (this.ended) return;
    this.stats.violations++;
    this.teardown();
    try {
      this.opts.onViolation(reason);
    } catch (err) {
      this.internalError(err instanceof Error ? err : new Error(String(err)));
    }
    this.reportClose(undefined, true);
  }

  /** Stop reading and writing at once and release the socket. */
  private teardown(): void {
    this.stopReading();
    this.ended = true;
    this.queue = [];
    this.stream.destroy();
  }

  private stopReading(): void {
    this.splitter.discard();
    this.stream.pause();
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.waitingDrain || this.ended || this.queue.length === 0) return;
    const data = this.queue.length === 1 ? this.queue[0]! : this.queue.join('');
    this.queue = [];
    this.writeOut(data);
  };

  private writeOut(data: string): void {
    this.stats.bytesOut += Buffer.byteLength(data);
    if (!this.stream.write(data)) {
      this.waitingDrain = true;
      this.stats.backpressureWaits++;
      // An agent that does not read its replies sends no more calls to be answered: what the kernel
      // owes it stays bounded by the socket buffers.
      this.pause('write');
    }
  }

  private readonly onDrain = (): void => {
    this.waitingDrain = false;
    this.flush();
    if (this.closing && !this.waitingDrain) this.end();
    else if (!this.waitingDrain) this.resume('write');
  };

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    // end() flushes what the socket holds; destroy once that is done (or it fails) so no handle lingers.
    this.stream.end(() => this.stream.destroy());
  }

  private readonly onStreamError = (err: Error): void => {
    // EPIPE/ECONNRESET: the agent died while we wrote. Not a violation; its exit tells the kernel why.
    this.ended = true;
    this.queue = [];
    this.stream.destroy();
    this.reportClose(err, false);
  };

  private reportClose(error: Error | undefined, byKernel: boolean): void {
    if (this.closeReported) return;
    this.closeReported = true;
    this.ended = true;
    const partialBytes = this.splitter.partialBytes;
    try {
      this.opts.onClose?.({ error, partialBytes, byKernel: byKernel || this.closing || this.stats.violations > 0 });
    } catch (err) {
      this.internalError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private internalError(err: Error): void {
    if (this.opts.onError) {
      try {
        this.opts.onError(err);
        return;
      } catch {
        /* fall through to stderr: an error reporter that throws must not take the kernel down */
      }
    }
    process.stderr.write(`agentos channel: ${err.stack ?? err.message}\n`);
  }
}
