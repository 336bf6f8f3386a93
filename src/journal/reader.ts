/**
 * Reading journal.jsonl back. A kernel killed mid-write leaves at most one incomplete last line (the
 * bytes after the last newline): it was never acknowledged (acks follow the fsync of whole lines), so
 * it is dropped — the torn tail. Anything wrong *before* that point — a line that is not JSON, not a
 * known fact, or a gap in `seq` — means the file was damaged or edited: refused with
 * `E_JOURNAL_CORRUPT`, naming the line and byte offset, since guessing would replay a wrong run.
 */
import { readFileSync } from 'node:fs';
import { AgentOSError } from '../errors.js';
import { JOURNAL_FORMAT, factSchema, type Fact } from './facts.js';

export interface JournalContents {
  facts: Fact[];
  /** Bytes of the file up to and including the last complete line: where the next append goes. */
  validBytes: number;
  /** The incomplete last line that was dropped, or null. */
  torn: { offset: number; bytes: number } | null;
}

const NEWLINE = 0x0a;

/**
 * Read and validate a journal file. A missing file reads as empty (a run that died before its header).
 * @throws AgentOSError `E_JOURNAL_CORRUPT` (bad line before the torn tail), `E_JOURNAL_IO` (unreadable).
 */
export function readJournalFile(file: string): JournalContents {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { facts: [], validBytes: 0, torn: null };
    throw new AgentOSError('E_JOURNAL_IO', `${file}: cannot read the journal: ${(err as Error).message}`, { file, cause: err });
  }
  return parseJournal(buf, file);
}

/**
 * Parse journal bytes (`label` names the source in errors).
 * @throws AgentOSError `E_JOURNAL_CORRUPT`.
 */
export function parseJournal(buf: Buffer, label: string): JournalContents {
  const validBytes = buf.lastIndexOf(NEWLINE) + 1;
  const torn = validBytes < buf.length ? { offset: validBytes, bytes: buf.length - validBytes } : null;
  const text = buf.toString('utf8', 0, validBytes);
  const facts: Fact[] = [];
  let start = 0;
  let line = 0;
  // Byte offsets for messages are counted on the UTF-8 text, so a fix like `truncate -s` can use them.
  let byteOffset = 0;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    const raw = text.slice(start, end);
    line++;
    facts.push(parseLine(raw, facts.length, { label, line, byteOffset }));
    byteOffset += Buffer.byteLength(raw, 'utf8') + 1;
    start = end + 1;
  }
  return { facts, validBytes, torn };
}

function parseLine(raw: string, expectedSeq: number, at: { label: string; line: number; byteOffset: number }): Fact {
  const where = `${at.label}:${at.line} (byte ${at.byteOffset})`;
  const fix = `Fix: restore the file from a backup, or — accepting the loss of every later fact — truncate it to ${at.byteOffset} bytes (truncate -s ${at.byteOffset} FILE).`;
  const corrupt = (what: string): AgentOSError => new AgentOSError('E_JOURNAL_CORRUPT', `${where}: corrupt journal: ${what}. ${fix}`, { file: at.label });
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw corrupt(`line is not JSON (${JSON.stringify(raw.slice(0, 60))}${raw.length > 60 ? '…' : ''})`);
  }
  const obj = json as { type?: unknown; format?: unknown };
  if (obj?.type === 'run.header' && typeof obj.format === 'number' && obj.format > JOURNAL_FORMAT) {
    throw new AgentOSError('E_JOURNAL_CORRUPT', `${where}: journal format ${obj.format} is newer than this AgentOS reads (${JOURNAL_FORMAT}). Fix: resume it with a newer AgentOS.`, { file: at.label });
  }
  const parsed = factSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw corrupt(`not a valid fact: ${issue.path.length > 0 ? `field '${issue.path.join('.')}': ` : ''}${issue.message}`);
  }
  const fact = parsed.data;
  if (fact.seq !== expectedSeq) throw corrupt(`seq ${fact.seq} where ${expectedSeq} was expected (a fact is missing or repeated)`);
  if ((expectedSeq === 0) !== (fact.type === 'run.header')) {
    throw corrupt(expectedSeq === 0 ? `the first fact is '${fact.type}', not the run header` : 'a second run header');
  }
  return fact;
}
