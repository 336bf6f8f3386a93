/**
 * The cluster's run journal: the `Journal` interface (src/journal/journal.ts) on a Redis stream, so a
 * coordinator on another machine can replay a run whose coordinator died (docs/cluster.md).
 *
 * Group commit as in the file journal: appends join an open batch, closed at most `windowMs` after its
 * first fact; one writer sends batches in order, merging those that closed while a call was in flight,
 * as one atomic script call (./journal-stream.ts). An append resolves when Redis acknowledged its batch.
 * "Durable" then means what Redis makes of it: with `appendonly yes` the write is in the append-only
 * file (in the OS page cache, fsynced within a second with `appendfsync everysec`) before Redis replies —
 * see docs/cluster.md for what a SIGKILL or a power cut can lose. A Redis without an append-only file
 * would lose every run on restart, so `create`/`open` refuse it unless told otherwise.
 *
 * While Redis is unreachable, batches wait as long as the client retries (the coordinator's client
 * retries forever and says so); commands in flight are resent after reconnecting, which the script
 * makes harmless.
 */
import type { Redis } from 'ioredis';
import { AgentOSError } from '../errors.js';
import type { Fact, FactInput } from '../journal/facts.js';
import type { Journal } from '../journal/journal.js';
import { appendFacts, appendOnlyEnabled, readFacts } from './journal-stream.js';
import type { RunKeys } from './keys.js';

export interface RedisJournalOptions {
  /** Longest a fact waits for its batch to be sent, in ms (0: the next turn of the event loop). @default 2 */
  windowMs?: number;
  /** Facts per script call. @default 1000 */
  maxBatchFacts?: number;
  /** A batch this large (UTF-16 units of JSON) is sent at once. @default 1 MiB */
  maxBatchBytes?: number;
  /** The coordinator's lease epoch: every batch is refused (`E_LEASE_LOST`) once the run's epoch differs. */
  fenceEpoch?: number | null;
  /** Refuse a Redis without `appendonly yes`. Only benchmarks turn this off. @default true */
  requireAppendOnly?: boolean;
  /** `close()` also closes the Redis client (`quit`). @default false: the caller owns it. */
  closeConnection?: boolean;
}

interface Batch {
  lines: string[];
  bytes: number;
  firstAt: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

const DEFAULTS = { windowMs: 2, maxBatchFacts: 1000, maxBatchBytes: 1 << 20, fenceEpoch: null, requireAppendOnly: true, closeConnection: false };

export class RedisJournal implements Journal {
  readonly backend = 'redis';
  private readonly opts: Required<RedisJournalOptions>;
  private seq: number;
  /** seq of the first fact not yet handed to Redis. */
  private sentSeq: number;
  private open: Batch | null = null;
  private readonly queue: Batch[] = [];
  private writing = false;
  private timer: (() => void) | null = null;
  private failed: AgentOSError | null = null;
  private closed = false;
  private last: Promise<void> = Promise.resolve();
  /** Counters since open: facts appended, script calls (facts per call is the group-commit ratio). */
  readonly stats = { facts: 0, calls: 0 };

  private constructor(
    private readonly redis: Redis,
    private readonly keys: Pick<RunKeys, 'journal' | 'epoch'>,
    nextSeq: number,
    opts: RedisJournalOptions,
  ) {
    this.seq = nextSeq;
    this.sentSeq = nextSeq;
    this.opts = { ...DEFAULTS, ...opts };
  }

  /**
   * Start the journal of a new run. Nothing is written until the first append (the header).
   * @throws AgentOSError `E_JOURNAL_IO` when the run already has a journal or Redis keeps no append-only file.
   */
  static async create(redis: Redis, keys: Pick<RunKeys, 'journal' | 'epoch'>, opts: RedisJournalOptions = {}): Promise<RedisJournal> {
    await checkRedis(redis, keys.journal, opts);
    if ((await io(keys.journal, 'check for a journal', () => redis.exists(keys.journal))) > 0) {
      throw new AgentOSError('E_JOURNAL_IO', `${keys.journal}: the run already has a journal (resume it instead, or pick another run id).`);
    }
    return new RedisJournal(redis, keys, 0, opts);
  }

  /**
   * Open the journal of an existing run to go on appending (resume): validates it and continues `seq`.
   * @returns the journal and the facts already in it.
   * @throws AgentOSError `E_JOURNAL_CORRUPT`, `E_JOURNAL_IO` (also when there is no journal).
   */
  static async open(redis: Redis, keys: Pick<RunKeys, 'journal' | 'epoch'>, opts: RedisJournalOptions = {}): Promise<{ journal: RedisJournal; facts: Fact[] }> {
    await checkRedis(redis, keys.journal, opts);
    const facts: Fact[] = [];
    await io(keys.journal, 'read the journal', async () => {
      for await (const f of readFacts(redis, keys.journal)) facts.push(f);
    });
    if (facts.length === 0) throw new AgentOSError('E_JOURNAL_IO', `${keys.journal}: no journal for this run in Redis (wrong run id, wrong --cluster URL or database, or Redis lost it).`);
    return { journal: new RedisJournal(redis, keys, facts.length, opts), facts };
  }

  get nextSeq(): number {
    return this.seq;
  }

  append(fact: FactInput): Promise<number> {
    let queued: { seq: number; batch: Batch };
    try {
      queued = this.enqueue(fact);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return queued.batch.done.then(() => queued.seq);
  }

  appendNoWait(fact: FactInput): number {
    return this.enqueue(fact).seq;
  }

  async flush(): Promise<void> {
    this.check();
    if (this.open) this.closeOpenBatch();
    await this.last;
    if (this.failed) throw this.failed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush().catch((err: unknown) => {
        if (!this.failed) throw err;
      });
    } finally {
      this.closed = true;
      if (this.opts.closeConnection) await this.redis.quit().catch(() => this.redis.disconnect());
    }
    if (this.failed) throw this.failed;
  }

  async *read(): AsyncIterable<Fact> {
    if (!this.closed) await this.flush();
    yield* readFacts(this.redis, this.keys.journal);
  }

  private check(): void {
    if (this.failed) throw this.failed;
    if (this.closed) throw new AgentOSError('E_JOURNAL_IO', `${this.keys.journal}: the journal is closed`);
  }

  private enqueue(fact: FactInput): { seq: number; batch: Batch } {
    this.check();
    const seq = this.seq;
    let line: string;
    try {
      line = JSON.stringify({ seq, ts_ms: Date.now(), ...fact });
    } catch (err) {
      // Refused before it takes a seq, as in the file journal.
      throw new AgentOSError('E_JOURNAL_IO', `${this.keys.journal}: a '${fact.type}' fact cannot be encoded as JSON: ${(err as Error).message}`, { cause: err });
    }
    this.seq++;
    this.stats.facts++;
    const batch = (this.open ??= newBatch());
    batch.lines.push(line);
    batch.bytes += line.length;
    if (batch.bytes >= this.opts.maxBatchBytes || batch.lines.length >= this.opts.maxBatchFacts) this.closeOpenBatch();
    else if (!this.timer) this.timer = this.schedule(Math.max(0, this.opts.windowMs - (performance.now() - batch.firstAt)));
    return { seq, batch };
  }

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

  /** The single writer: batches reach Redis in seq order, those queued meanwhile merged into one call. */
  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batches = this.takeBatches();
      if (this.failed) {
        for (const b of batches) b.reject(this.failed);
        continue;
      }
      const lines = batches.length === 1 ? batches[0]!.lines : batches.flatMap((b) => b.lines);
      try {
        await appendFacts(this.redis, this.keys, this.opts.fenceEpoch, this.sentSeq, lines);
        this.sentSeq += lines.length;
        this.stats.calls++;
        for (const b of batches) b.resolve();
      } catch (err) {
        this.failed =
          err instanceof AgentOSError
            ? err
            : new AgentOSError('E_JOURNAL_IO', `${this.keys.journal}: journal write failed: ${(err as Error).message}. The run cannot go on without its record.`, { cause: err });
        for (const b of batches) b.reject(this.failed);
      }
    }
    this.writing = false;
  }

  private takeBatches(): Batch[] {
    let n = 1;
    let facts = this.queue[0]!.lines.length;
    while (n < this.queue.length && facts + this.queue[n]!.lines.length <= this.opts.maxBatchFacts) facts += this.queue[n++]!.lines.length;
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
  // Kept in `failed` and thrown by the next call; appendNoWait callers do not await `done`.
  done.catch(() => undefined);
  return { lines: [], bytes: 0, firstAt: performance.now(), done, resolve, reject };
}

async function checkRedis(redis: Redis, stream: string, opts: RedisJournalOptions): Promise<void> {
  if (opts.requireAppendOnly === false) return;
  if (!(await io(stream, 'ask Redis about persistence', () => appendOnlyEnabled(redis)))) {
    throw new AgentOSError(
      'E_JOURNAL_IO',
      `${stream}: Redis keeps no append-only file, so a restart of Redis would lose the run. Fix: start redis-server with --appendonly yes (or redis-cli CONFIG SET appendonly yes, and put it in redis.conf).`,
    );
  }
}

async function io<T>(stream: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AgentOSError) throw err;
    throw new AgentOSError('E_JOURNAL_IO', `${stream}: cannot ${what}: ${(err as Error).message}`, { cause: err });
  }
}
