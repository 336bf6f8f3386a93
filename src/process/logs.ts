/**
 * An agent process's log: stdout and stderr go to `<logDir>/<agent>#<instance>.log` (or /dev/null), and
 * the last 8 KiB of stderr are kept to classify the process's death (exit-reason.ts).
 *
 * The file is capped at `log_max_mb` by copy-truncate: its last `maxBytes` are copied to `<file>.1`
 * (one generation, replaced each time) and the file is truncated to 0. The child writes its stdout
 * straight to the file through an O_APPEND descriptor, so its next write lands at the new end, offset 0
 * — no signal, no reopen in the child. Bytes the child writes between the copy and the truncate are lost
 * (microseconds), and the file can pass the cap by what is written between two checks: the kernel
 * checks after each MiB of stderr it copies and on every quota-sampler tick (checkLogs()).
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

const STDERR_TAIL = 8 * 1024;
/** After exit, how long to wait for the rest of stderr (the heap-limit report) before classifying. */
const STDERR_DRAIN_MS = 250;
/** Check the size after this much stderr (the kernel's own writes). */
const CHECK_EVERY = 1024 * 1024;
const COPY_CHUNK = 1024 * 1024;

/** Every open capped log, so the sampler tick can check them all (checkLogs). */
const openLogs = new Set<ProcessLog>();

/** Rotate every open log over its cap. Called on each quota-sampler tick; never throws. */
export function checkLogs(): void {
  for (const l of openLogs) l.capCheck();
}

export interface LogCap {
  /** The cap (bytes); 0 or absent: no cap. */
  maxBytes?: number;
  /** Called after a rotation with the bytes that were in the file (the `.1` holds the last maxBytes of them). */
  onRotate?: (bytes: number) => void;
}

export class ProcessLog {
  /** The child's stdout goes straight to this fd (no pipe through the kernel). */
  readonly fd: number;
  private open = true;
  private tailText = '';
  private readonly path: string | undefined;
  private sinceCheck = 0;
  /** Bytes moved out of the live file by rotations (only the last maxBytes of each are kept in `.1`). */
  rotatedBytes = 0;

  constructor(
    logDir: string | undefined,
    agent: string,
    instance: number,
    private readonly cap: LogCap = {},
  ) {
    this.path = logDir ? join(logDir, `${agent}#${instance}.log`) : undefined;
    // 'a+' = O_APPEND | O_RDWR: the child's writes go to the end even after a truncate; we read for the copy.
    this.fd = openSync(this.path ?? '/dev/null', 'a+');
    if (this.path && (cap.maxBytes ?? 0) > 0) openLogs.add(this);
  }

  /** The last 8 KiB of stderr. */
  get tail(): string {
    return this.tailText;
  }

  /** Follow the child's stderr: keep its tail, copy it to the log. */
  follow(stderr: Readable | null | undefined): void {
    stderr?.on('data', (chunk: Buffer) => {
      this.tailText = (this.tailText + chunk.toString('utf8')).slice(-STDERR_TAIL);
      if (!this.open) return;
      writeSync(this.fd, chunk);
      this.sinceCheck += chunk.length;
      if (this.sinceCheck >= CHECK_EVERY) this.capCheck();
    });
  }

  /** Rotate if the file is over its cap: copy its last maxBytes to `.1`, truncate it. Never throws. */
  capCheck(): void {
    this.sinceCheck = 0;
    const max = this.cap.maxBytes ?? 0;
    if (!this.open || !this.path || max <= 0) return;
    try {
      const size = fstatSync(this.fd).size;
      if (size <= max) return;
      const out = openSync(`${this.path}.1`, 'w');
      try {
        const buf = Buffer.allocUnsafe(COPY_CHUNK);
        for (let pos = size - max; pos < size; ) {
          const n = readSync(this.fd, buf, 0, Math.min(COPY_CHUNK, size - pos), pos);
          if (n <= 0) break;
          writeSync(out, buf, 0, n);
          pos += n;
        }
      } finally {
        closeSync(out);
      }
      ftruncateSync(this.fd, 0);
      this.rotatedBytes += size;
      this.cap.onRotate?.(size);
    } catch {
      // a full disk or a removed run directory: the log is best effort, the run goes on
    }
  }

  /** Wait (bounded) for the end of stderr after exit, then close the log. */
  async close(stderr: Readable | null | undefined): Promise<void> {
    await drain(stderr);
    if (this.open) {
      this.capCheck();
      this.open = false;
      openLogs.delete(this);
      closeSync(this.fd);
    }
  }
}

function drain(stream: Readable | null | undefined): Promise<void> {
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
