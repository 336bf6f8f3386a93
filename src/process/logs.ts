/**
 * An agent process's log: stdout and stderr go to `<logDir>/<agent>#<instance>.log` (or /dev/null), and
 * the last 8 KiB of stderr are kept to recognise V8's heap-limit report when the process dies.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

const STDERR_TAIL = 8 * 1024;
/** After exit, how long to wait for the rest of stderr (the heap-limit report) before classifying. */
const STDERR_DRAIN_MS = 250;

export class ProcessLog {
  /** The child's stdout goes straight to this fd (no pipe through the kernel). */
  readonly fd: number;
  private open = true;
  private tailText = '';

  constructor(logDir: string | undefined, agent: string, instance: number) {
    this.fd = openSync(logDir ? join(logDir, `${agent}#${instance}.log`) : '/dev/null', 'a');
  }

  /** The last 8 KiB of stderr. */
  get tail(): string {
    return this.tailText;
  }

  /** Follow the child's stderr: keep its tail, copy it to the log. */
  follow(stderr: Readable | null | undefined): void {
    stderr?.on('data', (chunk: Buffer) => {
      this.tailText = (this.tailText + chunk.toString('utf8')).slice(-STDERR_TAIL);
      if (this.open) writeSync(this.fd, chunk);
    });
  }

  /** Wait (bounded) for the end of stderr after exit, then close the log. */
  async close(stderr: Readable | null | undefined): Promise<void> {
    await drain(stderr);
    if (this.open) {
      this.open = false;
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
