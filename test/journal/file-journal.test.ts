/** The file journal: group commit, order, torn tail, corruption, reopening. */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentOSError } from '../../src/errors.js';
import { FileJournal, JOURNAL_FILE } from '../../src/journal/file-journal.js';
import { readJournalFile } from '../../src/journal/reader.js';
import { cleanupTempDirs, tempDir } from '../helpers.js';
import { added, charge, header, started, succeeded } from './facts-fixture.js';

afterAll(cleanupTempDirs);

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof AgentOSError ? err.code : `not AgentOSError: ${String(err)}`;
  }
  return undefined;
}

describe('file journal: group commit', () => {
  it('concurrent appends are all durable when they resolve, in call order, sharing fsyncs', async () => {
    const dir = tempDir('journal-');
    const j = FileJournal.create(dir, { windowMs: 5 });
    await j.append(header());
    const n = 500;
    // Every ack checks the file at that moment: what was acknowledged must already be on disk.
    const acks = Array.from({ length: n }, (_, i) =>
      j.append(charge(`a${i}`, i)).then((seq) => {
        const onDisk = readFileSync(join(dir, JOURNAL_FILE), 'utf8').split('\n');
        expect(JSON.parse(onDisk[seq]!)).toMatchObject({ seq, type: 'token.charge', agent: `a${i}`, tokens: i });
        return seq;
      }),
    );
    const seqs = await Promise.all(acks);
    expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const facts = await collect(j.read());
    expect(facts.map((f) => f.seq)).toEqual(Array.from({ length: n + 1 }, (_, i) => i));
    expect(facts.slice(1).map((f) => (f.type === 'token.charge' ? f.agent : ''))).toEqual(Array.from({ length: n }, (_, i) => `a${i}`));
    // Group commit: 501 facts, far fewer fsyncs.
    expect(j.stats.facts).toBe(n + 1);
    expect(j.stats.syncs).toBeLessThan(20);
    await j.close();
  });

  it('appendNoWait orders with awaited appends and is durable after flush; maxBatchFacts 1 fsyncs each fact', async () => {
    const dir = tempDir('journal-');
    const j = FileJournal.create(dir, { windowMs: 0, maxBatchFacts: 1 });
    j.appendNoWait(header());
    const a = j.appendNoWait(added('t1'));
    const b = j.append(started('t1', 1));
    const c = j.appendNoWait(succeeded('t1', 1));
    expect([a, await b, c]).toEqual([1, 2, 3]);
    await j.flush();
    expect(readJournalFile(join(dir, JOURNAL_FILE)).facts.map((f) => f.type)).toEqual(['run.header', 'task.added', 'attempt.started', 'task.succeeded']);
    expect(j.stats.syncs).toBe(4);
    await j.close();
    await expect(j.append(charge('x', 1))).rejects.toMatchObject({ code: 'E_JOURNAL_IO' });
  });

  it('a fact that is not JSON-encodable is refused without leaving a gap in seq', async () => {
    const dir = tempDir('journal-');
    const j = FileJournal.create(dir);
    await j.append(header());
    await expect(j.append(succeeded('t', 1, { n: 1n }))).rejects.toMatchObject({ code: 'E_JOURNAL_IO' });
    expect(await j.append(added('t'))).toBe(1);
    await j.close();
    expect(readJournalFile(join(dir, JOURNAL_FILE)).facts.map((f) => f.seq)).toEqual([0, 1]);
  });

  it('create refuses a directory that already has a journal', async () => {
    const dir = tempDir('journal-');
    await FileJournal.create(dir).close();
    expect(code(() => FileJournal.create(dir))).toBe('E_JOURNAL_IO');
  });
});

describe('journal reader', () => {
  async function journalWith(n: number): Promise<{ dir: string; file: string }> {
    const dir = tempDir('journal-');
    const j = FileJournal.create(dir);
    await j.append(header());
    for (let i = 0; i < n; i++) j.appendNoWait(added(`t${i}`));
    await j.close();
    return { dir, file: join(dir, JOURNAL_FILE) };
  }

  it('tolerates a torn last line, and open() cuts it off and continues the sequence', async () => {
    const { dir, file } = await journalWith(3);
    const good = readFileSync(file).length;
    // A kernel killed in the middle of writing a line leaves its first bytes and no newline.
    appendFileSync(file, '{"seq":4,"ts_ms":17000000,"type":"task.add');
    const r = readJournalFile(file);
    expect(r.facts).toHaveLength(4);
    expect(r.torn).toEqual({ offset: good, bytes: readFileSync(file).length - good });
    const { journal, facts, torn } = FileJournal.open(dir);
    expect(facts).toHaveLength(4);
    expect(torn?.offset).toBe(good);
    expect(readFileSync(file).length).toBe(good);
    expect(await journal.append(added('t3'))).toBe(4);
    await journal.close();
    const after = readJournalFile(file);
    expect(after.torn).toBeNull();
    expect(after.facts.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses a damaged line in the middle with E_JOURNAL_CORRUPT naming line and byte', async () => {
    const { file } = await journalWith(3);
    const lines = readFileSync(file, 'utf8').split('\n');
    const offset = Buffer.byteLength(`${lines[0]}\n${lines[1]}\n`);
    lines[2] = lines[2]!.slice(0, 20) + 'XX' + lines[2]!.slice(22);
    writeFileSync(file, lines.join('\n'));
    let err: unknown;
    try {
      readJournalFile(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AgentOSError);
    expect((err as AgentOSError).code).toBe('E_JOURNAL_CORRUPT');
    expect((err as AgentOSError).message).toContain(`${file}:3 (byte ${offset})`);
  });

  it('refuses a valid line that breaks the sequence, a missing header and a newer format', async () => {
    const { file } = await journalWith(2);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    writeFileSync(file, [lines[0], lines[2], lines[1], ''].join('\n'));
    expect(code(() => readJournalFile(file))).toBe('E_JOURNAL_CORRUPT');
    writeFileSync(file, [lines[1], ''].join('\n'));
    expect(code(() => readJournalFile(file))).toBe('E_JOURNAL_CORRUPT');
    writeFileSync(file, `${lines[0]!.replace('"format":1', '"format":99')}\n`);
    expect(code(() => readJournalFile(file))).toBe('E_JOURNAL_CORRUPT');
  });

  it('a missing journal reads as empty; open() of one is an E_JOURNAL_IO', () => {
    const dir = tempDir('journal-');
    expect(readJournalFile(join(dir, JOURNAL_FILE))).toEqual({ facts: [], validBytes: 0, torn: null });
    expect(code(() => FileJournal.open(dir))).toBe('E_JOURNAL_IO');
  });
});
