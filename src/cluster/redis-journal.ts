/**
 * The cluster's run journal: the `Journal` interface (src/journal/journal.ts) on a Redis stream, so a
 * coordinator on another machine can replay a run whose coordinator died (docs/cluster.md).
 *
 * Group commit shared with the file journal (src/journal/group-commit.ts): appends join an open batch,
 * closed at most `windowMs` after its first fact; one writer sends batches in order, merging those that
 * closed while a call was in flight, as one atomic script call (./journal-stream.ts). An append resolves when Redis acknowledged its batch.
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
import { GroupCommit } from '../journal/group-commit.js';
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

const DEFAULTS = { windowMs: 2, maxBatchFacts: 1000, maxBatchBytes: 1 << 20, fenceEpoch: null, requireAppendOnly: true, closeConnection: false };

export class RedisJournal implements Journal {
  readonly backend = 'redis';
  private seq: number;
  /** seq of the first fact not yet handed to Redis. */
  private sentSeq: number;
  private readonly group: GroupCommit;
  private released = false;
  private readonly closeConnection: boolean;
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
    const o: Required<RedisJournalOptions> = { ...DEFAULTS, ...opts };
    this.group = new GroupCommit({
      name: keys.journal,
      windowMs: o.windowMs,
      maxBatchBytes: o.maxBatchBytes,
      maxBatchFacts: o.maxBatchFacts,
      writeBatch: async (lines) => {
        await appendFacts(this.redis, this.keys, o.fenceEpoch, this.sentSeq, lines);
        this.sentSeq += lines.length;
        this.stats.calls++;
      },
      failure: (err) =>
        err instanceof AgentOSError
          ? err
          : new AgentOSError('E_JOURNAL_IO', `${keys.journal}: journal write failed: ${(err as Error).message}. The run cannot go on without its record.`, { cause: err }),
    });
    this.closeConnection = o.closeConnection;
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
    let seq: number;
    let done: Promise<void>;
    try {
      seq = this.seq;
      done = this.enqueue(fact);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return done.then(() => seq);
  }

  appendNoWait(fact: FactInput): number {
    const seq = this.seq;
    void this.enqueue(fact);
    return seq;
  }

  flush(): Promise<void> {
    return this.group.flush();
  }

  close(): Promise<void> {
    return this.group.close(async () => {
      this.released = true;
      if (this.closeConnection) await this.redis.quit().catch(() => this.redis.disconnect());
    });
  }

  async *read(): AsyncIterable<Fact> {
    if (!this.released) await this.flush();
    yield* readFacts(this.redis, this.keys.journal);
  }

  private enqueue(fact: FactInput): Promise<void> {
    this.group.check();
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
    return this.group.add(line);
  }
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
