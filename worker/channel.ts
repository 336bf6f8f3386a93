/**
 * The agent side of the AgentOS channel for Node agents: fd AGENTOS_CHANNEL_FD (3), NDJSON both ways
 * (docs/protocol.md). Node builtins only, on purpose: this module is loaded on every agent start-up.
 *
 * The kernel is the only peer, so a closed channel means the kernel is gone: the process exits at once,
 * whatever the handler is doing (an agent never outlives its kernel).
 */
import { Socket } from 'node:net';
import { CHANNEL_ENV, LineSplitter, decodeFrame, encodeFrame } from '../src/protocol/frames.js';

/** A message from the kernel: a JSON object with a string `type`. */
export type KernelFrame = Record<string, unknown> & { type: string };

export interface AgentChannel {
  /**
   * Queue one message (writes of the same tick go out together). Resolves at once while the socket buffer
   * has room, else when it drained: `await` it to respect backpressure (ctx.log does). Never rejects:
   * a write error means the kernel is gone and the process exits.
   */
  send(message: object): Promise<void>;
  /** Write raw bytes as they are (fault injection of non-JSON output); same backpressure as send(). */
  writeRaw(data: string | Buffer): Promise<void>;
  /** Set the single receiver of kernel messages (messages arriving before it is set are queued). */
  onMessage(handler: (message: KernelFrame) => void): void;
  /**
   * Flush everything written, then end our side. Resolves when the bytes are handed to the OS; exit with
   * your own code right then (e.g. 78 after init_failed): once the kernel closes its side too, the
   * channel's close handler exits 0.
   */
  end(): Promise<void>;
  /** Counters: frames and bytes each way. */
  readonly stats: { framesIn: number; framesOut: number; bytesOut: number };
}

export interface OpenChannelOptions {
  /** The fd to open; default Number(process.env.AGENTOS_CHANNEL_FD). */
  fd?: number;
  /** Called instead of process.exit(0) when the kernel closes the channel (tests only). */
  onClosed?: () => void;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Open the channel. Throws Error (code E_NO_CHANNEL) when AGENTOS_CHANNEL_FD is missing or not a number:
 * the process was not started by an AgentOS kernel.
 */
export function openChannel(options: OpenChannelOptions = {}): AgentChannel {
  const fd = options.fd ?? Number(process.env[CHANNEL_ENV.fd]);
  if (!Number.isInteger(fd) || fd < 3) {
    const err = new Error(`agentos: ${CHANNEL_ENV.fd} is not set (start me through the AgentOS kernel)`) as Error & { code: string };
    err.code = 'E_NO_CHANNEL';
    throw err;
  }
  const socket = new Socket({ fd, readable: true, writable: true });
  const closed =
    options.onClosed ??
    (() => {
      process.exit(0);
    });
  let gone = false;
  const kernelGone = (): void => {
    if (gone) return;
    gone = true;
    socket.destroy();
    closed();
  };
  socket.on('end', kernelGone);
  socket.on('close', kernelGone);
  socket.on('error', kernelGone); // EPIPE/ECONNRESET: the kernel died

  const stats = { framesIn: 0, framesOut: 0, bytesOut: 0 };
  let receiver: ((m: KernelFrame) => void) | undefined;
  const early: KernelFrame[] = [];
  const splitter = new LineSplitter(Number.MAX_SAFE_INTEGER, {
    line(text) {
      const d = decodeFrame(text);
      if (!d.ok) {
        // The kernel is trusted; a bad line is a bug there. Say so and leave rather than guess.
        process.stderr.write(`agentos: bad frame from the kernel: ${d.reason}\n`);
        process.exit(70);
      }
      stats.framesIn++;
      if (receiver) receiver(d.message);
      else early.push(d.message);
      return true;
    },
    overflow() {
      /* no limit on kernel -> agent lines */
    },
  });
  socket.on('data', (chunk: Buffer) => splitter.push(chunk));

  let corked = false;
  let drained: Promise<void> | undefined;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  const write = (data: string | Buffer): Promise<void> => {
    if (gone) return RESOLVED;
    stats.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    let ok: boolean;
    if (corked) ok = socket.write(data);
    else {
      // The first write of a tick goes out at once (latency); later ones in the same tick are corked
      // into one write (throughput).
      ok = socket.write(data);
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    if (ok) return drained ?? RESOLVED;
    drained ??= new Promise<void>((resolve) => {
      const done = (): void => {
        drained = undefined;
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
    return drained;
  };

  return {
    send(message) {
      const line = encodeFrame(message);
      stats.framesOut++;
      return write(line);
    },
    writeRaw: write,
    onMessage(handler) {
      receiver = handler;
      for (const m of early.splice(0)) handler(m);
    },
    end() {
      if (gone) return RESOLVED;
      if (corked) uncork();
      return new Promise<void>((resolve) => socket.end(resolve));
    },
    stats,
  };
}
