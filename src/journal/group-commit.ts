/**
 * Group commit, shared by every journal backend (./file-journal.ts, src/cluster/redis-journal.ts): the
 * backend encodes a fact as a line and hands it to `add()`; lines join the open batch, which is closed
 * at most `windowMs` after its first line (sooner once it holds `maxBatchBytes` or `maxBatchFacts`). One
 * writer hands closed batches to the backend's `writeBatch(lines)` in order; batches that closed while a
 * write was in flight are merged into one call (at most `maxBatchFacts` lines), so under load the store
 * sets the pace, not the window, and a caller never waits for more than one window plus two writes.
 * After a failed write the group is failed: every waiting and later batch is rejected with the same
 * error (a run must not go on with a hole in its record).
 */
import { AgentOSError } from '../errors.js';

export interface GroupCommitOptions {
  /** What the journal is called in messages (a file path, a stream key). */
  name: string;
  /**
   * Make these lines durable, in this order, or reject. Called by one writer at a time; `lines` may be
   * the batch's own array (do not keep or change it).
   */
  writeBatch(lines: string[]): Promise<void>;
  /** The backend's error for a failed write (wraps `err` as `E_JOURNAL_IO`, or keeps a known AgentOSError). */
  failure(err: unknown): AgentOSError;
  /** Longest a line waits for its batch to be written, in ms (0: the next turn of the event loop). */
  windowMs: number;
  /** A batch this large (UTF-16 units) is written at once, without waiting for the window. */
  maxBatchBytes: number;
  /** Lines per batch and per write (1 turns group commit off). */
  maxBatchFacts: number;
}

interface Batch {
  lines: string[];
  bytes: number;
  firstAt: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class GroupCommit {
  private open: Batch | null = null;
  /** Batches closed and waiting for the writer, oldest first. */
  private readonly queue: Batch[] = [];
  private writing = false;
  /** Cancels the scheduled close of the open batch (a timer, or an immediate for a window of 0). */
  private timer: (() => void) | null = null;
  private failedWith: AgentOSError | null = null;
  private closed = false;
  /** Settles when the last closed batch is written (or failed): what flush() waits for. */
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly o: GroupCommitOptions) {}

  /** The error the group failed with, if any. */
  get failed(): AgentOSError | null {
    return this.failedWith;
  }

  /**
   * Whether lines may still be added.
   * @throws AgentOSError the write failure (`E_JOURNAL_IO`, or the backend's code), or `E_JOURNAL_IO` once closed.
   */
  check(): void {
    if (this.failedWith) throw this.failedWith;
    if (this.closed) throw new AgentOSError('E_JOURNAL_IO', `${this.o.name}: the journal is closed`);
  }

  /**
   * Add an encoded line (call check() first: the caller assigns its seq in between). Resolves when its
   * batch is durable; rejects with the group's failure. The promise never rejects unhandled.
   */
  add(line: string): Promise<void> {
    const batch = (this.open ??= newBatch());
    batch.lines.push(line);
    batch.bytes += line.length; // UTF-16 units: close enough for a size threshold, and free
    if (batch.bytes >= this.o.maxBatchBytes || batch.lines.length >= this.o.maxBatchFacts) this.closeOpenBatch();
    else if (!this.timer) this.timer = this.schedule(Math.max(0, this.o.windowMs - (performance.now() - batch.firstAt)));
    return batch.done;
  }

  /** Resolves when every line added so far is durable. @throws AgentOSError the group's failure, or closed. */
  async flush(): Promise<void> {
    this.check();
    if (this.open) this.closeOpenBatch();
    await this.last;
    if (this.failedWith) throw this.failedWith;
  }

  /**
   * Flush, then `release` the backend (always, even after a failure). Idempotent: later calls do nothing.
   * @throws AgentOSError the group's failure.
   */
  async close(release: () => void | Promise<void>): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush().catch((err: unknown) => {
        if (!this.failedWith) throw err;
      });
    } finally {
      this.closed = true;
      await release();
    }
    if (this.failedWith) throw this.failedWith;
  }

  /** setTimeout clamps 0 to 1 ms; a window of 0 means the next turn of the event loop, so use setImmediate. */
  private schedule(delayMs: number): () => void {
    if (delayMs <= 0) {
      const im = setImmediate(() => this.closeOpenBatch());
      return () => clearImmediate(im);
    }
    const t = setTimeout(() => this.closeOpenBatch(), delayMs);
    return () => clearTimeout(t);
  }

  private closeOpenBatch(): void {
    this.timer?.();
    this.timer = null;
    const batch = this.open;
    if (!batch) return;
    this.open = null;
    this.queue.push(batch);
    this.last = batch.done.catch(() => undefined);
    if (!this.writing) void this.drain();
  }

  /** The single writer: batches go to the store in order, those queued meanwhile merged into one write. */
  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batches = this.takeBatches();
      if (this.failedWith) {
        for (const b of batches) b.reject(this.failedWith);
        continue;
      }
      try {
        await this.o.writeBatch(batches.length === 1 ? batches[0]!.lines : batches.flatMap((b) => b.lines));
        for (const b of batches) b.resolve();
      } catch (err) {
        this.failedWith = this.o.failure(err);
        for (const b of batches) b.reject(this.failedWith);
      }
    }
    this.writing = false;
  }

  /** Queued batches for one write: all of them, but no more than `maxBatchFacts` lines (at least one batch). */
  private takeBatches(): Batch[] {
    let n = 1;
    let lines = this.queue[0]!.lines.length;
    while (n < this.queue.length && lines + this.queue[n]!.lines.length <= this.o.maxBatchFacts) lines += this.queue[n++]!.lines.length;
    return this.queue.splice(0, n);
  }
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A write error is kept in `failed` and thrown by the next call; appendNoWait callers do not await
  // `done`, so it must not surface as an unhandled rejection.
  done.catch(() => undefined);
  return { lines: [], bytes: 0, firstAt: performance.now(), done, resolve, reject };
}
