/**
 * The Redis side of the cluster journal (./redis-journal.ts): the stream layout, the append script and
 * the reader.
 *
 * Layout: one stream per run, `{aos:R}:journal`; fact `seq` is entry id `0-(seq+1)` with one field `f`,
 * the fact's JSON. Explicit ids make the stream itself refuse a hole or a second writer of a seq, and
 * read back in seq order with XRANGE.
 *
 * The append script writes a batch atomically (a script runs alone) and is idempotent: ioredis resends a
 * command whose reply was lost when the connection dropped (Redis restarted after executing it), so a
 * batch may arrive twice; facts already there with the same bytes are skipped, different bytes are a
 * conflict (a second writer). With a fence it first checks the run's epoch (the coordinator lease), so
 * a coordinator that lost its lease cannot write after its successor.
 */
import type { Redis } from 'ioredis';
import { AgentOSError } from '../errors.js';
import { JOURNAL_FORMAT, factSchema, type Fact } from '../journal/facts.js';

/** Stream field holding a fact's JSON. */
export const FACT_FIELD = 'f';

export function entryId(seq: number): string {
  return `0-${seq + 1}`;
}

// KEYS[1] the stream, KEYS[2] the epoch key. ARGV[1] the fence epoch ('' for none), ARGV[2] the first
// seq, ARGV[3..] the facts' JSON. Returns {status, detail}: OK (last seq), FENCED (current epoch),
// CONFLICT (the seq), GAP (the stream's last seq). A check can only fail before the first XADD (seqs
// rise), so a refused batch writes nothing.
const APPEND_LUA = `
if ARGV[1] ~= '' then
  local cur = redis.call('GET', KEYS[2])
  if cur ~= ARGV[1] then return {'FENCED', cur or ''} end
end
local first = tonumber(ARGV[2])
local lastSeq = -1
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 then lastSeq = tonumber(string.match(last[1][1], '^0%-(%d+)$')) - 1 end
for i = 3, #ARGV do
  local seq = first + i - 3
  local id = '0-' .. string.format('%d', seq + 1)
  if seq <= lastSeq then
    local e = redis.call('XRANGE', KEYS[1], id, id)
    if #e == 0 or e[1][2][2] ~= ARGV[i] then return {'CONFLICT', tostring(seq)} end
  elseif seq == lastSeq + 1 then
    redis.call('XADD', KEYS[1], id, '${FACT_FIELD}', ARGV[i])
    lastSeq = seq
  else
    return {'GAP', tostring(lastSeq)}
  end
end
return {'OK', tostring(lastSeq)}
`;

type AppendReply = [string, string];
interface JournalCommands {
  aosJournalAppend(stream: string, epochKey: string, fence: string, first: string, ...facts: string[]): Promise<AppendReply>;
}

/**
 * Write facts `first … first+n-1` (their JSON lines without newline) atomically.
 * ioredis's script command falls back from EVALSHA to EVAL when a restarted Redis lost its script cache.
 * @throws AgentOSError `E_LEASE_LOST` (fenced), `E_JOURNAL_IO` (conflict, gap, Redis refused).
 */
export async function appendFacts(redis: Redis, keys: { journal: string; epoch: string }, fence: number | null, first: number, facts: string[]): Promise<void> {
  const r = redis as Redis & Partial<JournalCommands>;
  if (!r.aosJournalAppend) redis.defineCommand('aosJournalAppend', { numberOfKeys: 2, lua: APPEND_LUA });
  const [status, detail] = await (redis as Redis & JournalCommands).aosJournalAppend(keys.journal, keys.epoch, fence === null ? '' : String(fence), String(first), ...facts);
  if (status === 'OK') return;
  if (status === 'FENCED') {
    throw new AgentOSError('E_LEASE_LOST', `${keys.journal}: refused: this coordinator holds epoch ${fence}, the run is now at epoch ${detail || 'none'} (another coordinator took the run over). This one must stop.`);
  }
  if (status === 'CONFLICT') throw new AgentOSError('E_JOURNAL_IO', `${keys.journal}: seq ${detail} was already written with other content: another process writes this run's journal. Fix: make sure only one coordinator runs the run.`);
  throw new AgentOSError('E_JOURNAL_IO', `${keys.journal}: a batch starting at seq ${first} would leave a hole (the journal ends at seq ${detail}).`);
}

/** The number of facts in the stream (its last seq + 1). */
export async function streamLength(redis: Redis, stream: string): Promise<number> {
  const last = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
  return last.length === 0 ? 0 : seqOf(last[0]![0], stream) + 1;
}

/**
 * Read and validate every fact of a journal stream, in seq order, in pages.
 * @throws AgentOSError `E_JOURNAL_CORRUPT` (an entry that is not a fact, a gap, a header out of place).
 */
export async function* readFacts(redis: Redis, stream: string, pageSize = 1000): AsyncGenerator<Fact> {
  let from = '-';
  let expected = 0;
  for (;;) {
    const page = await redis.xrange(stream, from, '+', 'COUNT', pageSize);
    for (const [id, fields] of page) {
      const seq = seqOf(id, stream);
      const raw = fields[0] === FACT_FIELD ? fields[1] : undefined;
      const fact = validate(raw, { stream, id, expected });
      if (seq !== expected || fact.seq !== seq) throw corrupt(stream, id, `seq ${fact.seq} at entry ${id} where ${expected} was expected (a fact is missing or repeated)`);
      expected++;
      yield fact;
    }
    if (page.length < pageSize) return;
    from = `(${page[page.length - 1]![0]}`;
  }
}

function seqOf(id: string, stream: string): number {
  const m = /^0-(\d+)$/.exec(id);
  if (!m) throw corrupt(stream, id, `entry id ${id} is not an AgentOS journal id (0-N)`);
  return Number(m[1]) - 1;
}

function validate(raw: string | undefined, at: { stream: string; id: string; expected: number }): Fact {
  if (raw === undefined) throw corrupt(at.stream, at.id, `entry has no '${FACT_FIELD}' field`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw corrupt(at.stream, at.id, `entry is not JSON (${JSON.stringify(raw.slice(0, 60))})`);
  }
  const obj = json as { type?: unknown; format?: unknown } | null;
  if (obj?.type === 'run.header' && typeof obj.format === 'number' && obj.format > JOURNAL_FORMAT) {
    throw new AgentOSError('E_JOURNAL_CORRUPT', `${at.stream}: journal format ${obj.format} is newer than this AgentOS reads (${JOURNAL_FORMAT}). Fix: resume it with a newer AgentOS.`);
  }
  const parsed = factSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw corrupt(at.stream, at.id, `not a valid fact: ${issue.path.length > 0 ? `field '${issue.path.join('.')}': ` : ''}${issue.message}`);
  }
  if ((at.expected === 0) !== (parsed.data.type === 'run.header')) {
    throw corrupt(at.stream, at.id, at.expected === 0 ? `the first fact is '${parsed.data.type}', not the run header` : 'a second run header');
  }
  return parsed.data;
}

function corrupt(stream: string, id: string, what: string): AgentOSError {
  return new AgentOSError('E_JOURNAL_CORRUPT', `${stream} entry ${id}: corrupt journal: ${what}. Fix: restore Redis from a backup of its append-only file, or start the run again.`);
}

/**
 * Whether Redis keeps an append-only file (`INFO persistence`: aof_enabled). Without it a restart of
 * Redis loses the journal.
 */
export async function appendOnlyEnabled(redis: Redis): Promise<boolean> {
  const info = await redis.info('persistence');
  return /^aof_enabled:1\s*$/m.test(info);
}
