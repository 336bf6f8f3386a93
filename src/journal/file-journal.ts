/**
 * The embedded journal: `journal.jsonl` in the run directory, one fact per line, with group commit.
 *
 * Every append joins the open batch of the group commit (./group-commit.ts); a batch is written with one
 * write() and made durable with one fdatasync() at most `windowMs` after its first fact (sooner once it
 * holds `maxBatchBytes`), and every caller waiting on it resolves after that fsync. While a batch is
 * being written the next one fills, so under load one fsync serves many facts and a caller never waits
 * for more than one window plus two fsyncs. Plain fs primitives on one fd: the measured cost (docs/durability.md) left nothing for an
 * embedded database to win, and no dependency is needed.
 */
import { closeSync, fdatasync, fsyncSync, ftruncateSync, openSync, write, constants } from 'node:fs';
import { join } from 'node:path';
import { AgentOSError } from '../errors.js';
import type { Fact, FactInput } from './facts.js';
import type { Journal } from './journal.js';
import { GroupCommit } from './group-commit.js';
import { readJournalFile } from './reader.js';

export const JOURNAL_FILE = 'journal.jsonl';

export interface FileJournalOptions {
  /** Longest a fact waits for its batch to be written, in ms (0: the next turn of the event loop). @default 2 */
  windowMs?: number;
  /** A batch this large is written at once, without waiting for the window. @default 1 MiB */
  maxBatchBytes?: number;
  /** Facts per batch; 1 turns group commit off (one write+fsync per fact: for the benchmark). @default Infinity */
  maxBatchFacts?: number;
  /** `fdatasync` (default) or `none` (write only: survives a killed process, not a power cut; benchmark only). */
  sync?: 'fdatasync' | 'none';
}

const DEFAULTS = { windowMs: 2, maxBatchBytes: 1 << 20, maxBatchFacts: Number.POSITIVE_INFINITY, sync: 'fdatasync' } as const;

export class FileJournal implements Journal {
  readonly backend = 'file';
  readonly file: string;
  private fd: number;
  private seq: number;
  private readonly group: GroupCommit;
  /** Counters since open: facts appended, write()s issued for batches, fsyncs done (the group-commit ratio). */
  readonly stats = { facts: 0, writes: 0, syncs: 0 };

  private constructor(file: string, fd: number, nextSeq: number, opts: FileJournalOptions) {
    this.file = file;
    this.fd = fd;
    this.seq = nextSeq;
    const o = { ...DEFAULTS, ...opts };
    this.group = new GroupCommit({
      name: file,
      windowMs: o.windowMs,
      maxBatchBytes: o.maxBatchBytes,
      maxBatchFacts: o.maxBatchFacts,
      writeBatch: async (lines) => {
        await writeAll(this.fd, Buffer.from(lines.join(''), 'utf8'));
        this.stats.writes++;
        if (o.sync === 'fdatasync') {
          await syncFd(this.fd);
          this.stats.syncs++;
        }
      },
      failure: (err) => new AgentOSError('E_JOURNAL_IO', `${file}: journal write failed: ${(err as Error).message}. The run cannot go on without its record.`, { file, cause: err }),
    });
  }

  /**
   * Start the journal of a new run in `runDir` (which must exist). The file and its directory entry are
   * fsynced before this returns, so a header appended next cannot vanish with the directory.
   * @throws AgentOSError `E_JOURNAL_IO` when the file exists already or cannot be created.
   */
  static create(runDir: string, opts: FileJournalOptions = {}): FileJournal {
    const file = join(runDir, JOURNAL_FILE);
    const fd = ioSync(file, 'create the journal', () => openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL, 0o644));
    syncDir(runDir);
    return new FileJournal(file, fd, 0, opts);
  }

  /**
   * Open the journal of an existing run to go on appending (resume): validates it, cuts the torn tail
   * off (so the next line does not join garbage and turn it into mid-file corruption) and continues `seq`.
   * @returns the journal and the facts already in it.
   * @throws AgentOSError `E_JOURNAL_CORRUPT`, `E_JOURNAL_IO` (also when there is no journal).
   */
  static open(runDir: string, opts: FileJournalOptions = {}): { journal: FileJournal; facts: Fact[]; torn: { offset: number; bytes: number } | null } {
    const file = join(runDir, JOURNAL_FILE);
    const fd = ioSync(file, 'open the journal', () => openSync(file, constants.O_WRONLY | constants.O_APPEND));
    try {
      const contents = readJournalFile(file);
      if (contents.torn) {
        ioSync(file, 'cut the torn tail off', () => ftruncateSync(fd, contents.validBytes));
        ioSync(file, 'sync the journal', () => fsyncSync(fd));
      }
      return { journal: new FileJournal(file, fd, contents.facts.length, opts), facts: contents.facts, torn: contents.torn };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
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
    return this.group.close(() => {
      closeSync(this.fd);
      this.fd = -1;
    });
  }

  async *read(): AsyncIterable<Fact> {
    if (this.fd >= 0) await this.flush();
    yield* readJournalFile(this.file).facts;
  }

  private enqueue(fact: FactInput): Promise<void> {
    this.group.check();
    const seq = this.seq;
    // seq and ts_ms first: a person reading the file sees the order at a glance.
    let line: string;
    try {
      line = `${JSON.stringify({ seq, ts_ms: Date.now(), ...fact })}\n`;
    } catch (err) {
      // Refused before it takes a seq: a BigInt or a cycle must not leave a gap in the sequence.
      throw new AgentOSError('E_JOURNAL_IO', `${this.file}: a '${fact.type}' fact cannot be encoded as JSON: ${(err as Error).message}`, { file: this.file, cause: err });
    }
    this.seq++;
    this.stats.facts++;
    return this.group.add(line);
  }
}

function writeAll(fd: number, buf: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number): void => {
      write(fd, buf, off, buf.length - off, null, (err, n) => {
        if (err) reject(err);
        else if (off + n < buf.length) step(off + n);
        else resolve();
      });
    };
    step(0);
  });
}

function syncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** fsync a directory so a file created in it survives a power cut. */
function syncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // Some file systems refuse to open or fsync a directory; the file's own fsyncs still apply.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

function ioSync<T>(file: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EEXIST' ? ' (a run directory holds one journal; resume it instead)' : e.code === 'ENOENT' ? ' (no journal in that directory)' : '';
    throw new AgentOSError('E_JOURNAL_IO', `${file}: cannot ${what}: ${e.message}${hint}`, { file, cause: err });
  }
}
