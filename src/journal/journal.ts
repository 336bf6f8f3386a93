/**
 * The run journal as an interface: an append-only, totally ordered log of facts (./facts.ts) that is
 * durable before a fact takes effect. The embedded default is a file in the run directory
 * (./file-journal.ts); the cluster adds a Redis backend behind the same interface, so nothing here
 * assumes a file: no offsets, no paths, sequence numbers assigned by the journal itself.
 */
import type { Fact, FactInput } from './facts.js';

export interface Journal {
  /** Which backend: shown in logs and the report. */
  readonly backend: string;

  /** Sequence number the next appended fact gets (facts already in the journal are 0 … next-1). */
  readonly nextSeq: number;

  /**
   * Append a fact; resolves with its `seq` once it is durable (on disk after fsync, or acknowledged by
   * the store). Facts keep the order of the calls, whatever order their promises settle in.
   * @throws AgentOSError `E_JOURNAL_IO` when it cannot be made durable; the journal is then failed
   *   and every later call throws the same error (a run must not go on with a hole in its record).
   */
  append(fact: FactInput): Promise<number>;

  /**
   * Append without waiting: the fact is ordered now and becomes durable with the next group commit.
   * For facts whose loss is harmless until the next awaited append (e.g. a token charge before the
   * task's result). Returns its `seq`. A write error surfaces at the next append/flush/close.
   * @throws AgentOSError `E_JOURNAL_IO` when the journal has already failed or is closed.
   */
  appendNoWait(fact: FactInput): number;

  /** Resolves when every fact appended so far is durable. @throws AgentOSError `E_JOURNAL_IO`. */
  flush(): Promise<void>;

  /** Flush, then release the backend (file descriptor, connection). Idempotent. */
  close(): Promise<void>;

  /**
   * The durable facts in order, validated (flushes first).
   * @throws AgentOSError `E_JOURNAL_CORRUPT` for an unreadable fact before the torn tail.
   */
  read(): AsyncIterable<Fact>;
}
