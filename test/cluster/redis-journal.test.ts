/** The Redis journal against a real redis-server: order, read back, replay parity, restarts, fencing. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFacts, streamLength } from '../../src/cluster/journal-stream.js';
import { clusterKeys } from '../../src/cluster/keys.js';
import { RedisJournal } from '../../src/cluster/redis-journal.js';
import { ioredisOptions, parseClusterUrl } from '../../src/cluster/redis-url.js';
import { AgentOSError } from '../../src/errors.js';
import type { Fact, FactInput } from '../../src/journal/facts.js';
import { FileJournal } from '../../src/journal/file-journal.js';
import { replay } from '../../src/journal/replay.js';
import { cleanupTempDirs, pidAlive, tempDir, waitFor } from '../helpers.js';
import { added, charge, header, started, succeeded } from '../journal/facts-fixture.js';
import { redisServerPath, startRedis, stopAllRedis, type RedisServer } from './redis.js';

const REDIS = redisServerPath();
const keys = clusterKeys('aos');
const clients: Redis[] = [];

function client(r: RedisServer): Redis {
  const c = new Redis(ioredisOptions(parseClusterUrl(r.url, {}), { maxRetriesPerRequest: null }));
  // Connection errors while a test restarts or stops Redis are expected; ioredis reconnects.
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof AgentOSError ? err.code : `not AgentOSError: ${String(err)}`;
  }
  return 'resolved';
}

/** A run with retries, memory, tokens, an interruption and a resume: every fact kind replay folds. */
function story(): FactInput[] {
  return [
    header('run-x'),
    added('a'),
    added('b', ['a']),
    started('a', 1, 100),
    { type: 'attempt.outcome', task: 'a', attempt: 1, agent: 'echo', kind: 'crash', message: 'exit 1', pid: 100 },
    started('a', 2, 101),
    { type: 'memory.write', key: 'k', value: { deep: [1, 'ü', null] }, writer: { agent: 'echo', instance: 0, task: 'a' } },
    charge('echo', 42),
    succeeded('a', 2, { v: 'a' }),
    started('b', 1, 102),
    { type: 'run.interrupted', at: 1_700_000_000_000, by_pid: 1, signal: 'SIGTERM' },
    { type: 'run.resumed', at: 1_700_000_000_500, by_pid: 2 },
    started('b', 2, 103),
    succeeded('b', 2, 'B'),
    { type: 'run.finished', status: 'succeeded', duration_ms: 1234 },
  ];
}

const noTs = (fs: Fact[]): Fact[] => fs.map((f) => ({ ...f, ts_ms: 0 }));

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await stopAllRedis();
  cleanupTempDirs();
});

describe.skipIf(!REDIS)('redis journal', () => {
  let r: RedisServer;
  beforeAll(async () => {
    r = await startRedis();
  });

  it('appends resolve with their seq; read() gives the facts back in order, validated', async () => {
    const k = keys.run('r1');
    const j = await RedisJournal.create(client(r), k);
    const seqs = await Promise.all(story().map((f) => j.append(f)));
    expect(seqs).toEqual(story().map((_, i) => i));
    expect(j.nextSeq).toBe(story().length);
    const back = await collect(j.read());
    expect(back.map((f) => f.type)).toEqual(story().map((f) => f.type));
    expect(back.map((f) => f.seq)).toEqual(seqs);
    expect(back[6]).toMatchObject({ type: 'memory.write', value: { deep: [1, 'ü', null] } });
    // One script call served many facts: the appends went out as one group.
    expect(j.stats.calls).toBeLessThan(story().length);
    await j.close();
  });

  it('replays to the same run state as the file journal holding the same facts', async () => {
    const fj = FileJournal.create(tempDir('rj-file-'));
    const rj = await RedisJournal.create(client(r), keys.run('r2'));
    for (const f of story()) {
      await fj.append(f);
      await rj.append(f);
    }
    const fromFile = noTs(await collect(fj.read()));
    const fromRedis = noTs(await collect(rj.read()));
    expect(fromRedis).toEqual(fromFile);
    const a = replay(fromFile);
    const b = replay(fromRedis);
    expect([...b.tasks.entries()]).toEqual([...a.tasks.entries()]);
    expect(b).toEqual(a);
    expect(b.tasks.get('b')!.failures.map((f) => f.kind)).toEqual(['interrupted']);
    await fj.close();
    await rj.close();
  });

  it('concurrent appends and appendNoWait keep call order; open() continues the sequence', async () => {
    const k = keys.run('r3');
    const j = await RedisJournal.create(client(r), k, { windowMs: 0 });
    await j.append(header('run-3'));
    const pending: Array<Promise<number> | number> = [];
    for (let i = 0; i < 3000; i++) {
      const f = added(`t${i}`);
      pending.push(i % 3 === 0 ? j.appendNoWait(f) : j.append(f));
    }
    const seqs = await Promise.all(pending);
    await j.flush();
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    await j.close();
    const { journal, facts } = await RedisJournal.open(client(r), k);
    expect(facts.map((f) => (f.type === 'task.added' ? f.task : f.type))).toEqual(['run.header', ...seqs.map((_, i) => `t${i}`)]);
    expect(journal.nextSeq).toBe(3001);
    expect(await journal.append(added('late'))).toBe(3001);
    await journal.close();
  });

  it('loses no acknowledged fact when Redis is stopped with SIGTERM and restarted mid-appends', async () => {
    const rr = await startRedis();
    const c = client(rr);
    const k = keys.run('r4');
    const j = await RedisJournal.create(c, k);
    await j.append(header('run-4'));
    const acked = new Map<number, string>();
    let stop = false;
    const appender = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const task = `w${w}-${i}`;
        acked.set(await j.append(added(task)), task);
      }
    };
    const workers = [0, 1, 2, 3, 4, 5, 6, 7].map(appender);
    await waitFor(() => acked.size >= 400, 30_000, '400 acked facts');
    const oldPid = rr.pid();
    const before = acked.size;
    await rr.restart('SIGTERM');
    expect(pidAlive(oldPid)).toBe(false);
    await waitFor(() => acked.size >= before + 400, 30_000, '400 more acked facts after the restart');
    stop = true;
    await Promise.all(workers);
    await j.close();
    const back = await collect((await RedisJournal.open(client(rr), k)).journal.read());
    expect(back.map((f) => f.seq)).toEqual(back.map((_, i) => i));
    for (const [seq, task] of acked) expect(back[seq]).toMatchObject({ type: 'task.added', task });
    await rr.destroy();
  });

  it('a resent batch is harmless; a different batch at a taken seq is a conflict', async () => {
    const c = client(r);
    const k = keys.run('r5');
    const lines = [JSON.stringify({ seq: 0, ts_ms: 1, ...header('run-5') }), JSON.stringify({ seq: 1, ts_ms: 2, ...added('a') })];
    await appendFacts(c, k, null, 0, lines);
    await appendFacts(c, k, null, 0, lines);
    expect(await streamLength(c, k.journal)).toBe(2);
    expect(await rejection(appendFacts(c, k, null, 1, [JSON.stringify({ seq: 1, ts_ms: 3, ...added('a') })]))).toBe('E_JOURNAL_IO');
    expect(await rejection(appendFacts(c, k, null, 5, lines))).toBe('E_JOURNAL_IO');
    expect(await streamLength(c, k.journal)).toBe(2);
    // A second writer of the same run is refused at its first append, and the journal stays failed.
    const second = await RedisJournal.open(c, k);
    const first = await RedisJournal.open(c, k);
    await first.journal.append(added('b'));
    expect(await rejection(second.journal.append(added('c')))).toBe('E_JOURNAL_IO');
    expect(await rejection(second.journal.flush())).toBe('E_JOURNAL_IO');
    expect(await rejection(RedisJournal.create(c, k))).toBe('E_JOURNAL_IO');
  });

  it('with a fence, appends are refused once another coordinator took a newer epoch', async () => {
    const c = client(r);
    const k = keys.run('r6');
    await c.set(k.epoch, '1');
    const j = await RedisJournal.create(c, k, { fenceEpoch: 1 });
    await j.append(header('run-6'));
    await c.incr(k.epoch);
    expect(await rejection(j.append(added('a')))).toBe('E_LEASE_LOST');
    expect(await rejection(j.append(added('b')))).toBe('E_LEASE_LOST');
    expect(await streamLength(c, k.journal)).toBe(1);
  });

  it('refuses a Redis without an append-only file, and reports a damaged stream as corrupt', async () => {
    const vol = await startRedis({ appendonly: false });
    expect(await rejection(RedisJournal.create(client(vol), keys.run('r7')))).toBe('E_JOURNAL_IO');
    await vol.destroy();
    const c = client(r);
    const k = keys.run('r8');
    await c.xadd(k.journal, '0-1', 'f', JSON.stringify({ seq: 0, ts_ms: 1, ...header('run-8') }));
    await c.xadd(k.journal, '0-2', 'f', '{"seq":1,"type":"nope"}');
    expect(await rejection(RedisJournal.open(c, k))).toBe('E_JOURNAL_CORRUPT');
    expect(await rejection(RedisJournal.open(c, keys.run('missing')))).toBe('E_JOURNAL_IO');
  });
});
