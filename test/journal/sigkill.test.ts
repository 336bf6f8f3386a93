/**
 * A real SIGKILL: a child process appends facts in concurrent loops and prints an ack after each durable
 * append; it is SIGKILLed at a random moment (after a random number of acks), restarted on the same
 * journal (open() cuts a torn tail), killed again, 20 times. Every acked fact must be in the journal,
 * with its content, and the journal must read cleanly. The seed is logged; JOURNAL_SEED=<n> replays it.
 *
 * A SIGKILL leaves the page cache intact, so this proves "acked only after the write, whole lines, torn
 * tail handled" — not the fsync itself, which only a power cut can test (docs/durability.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JOURNAL_FILE } from '../../src/journal/file-journal.js';
import { readJournalFile } from '../../src/journal/reader.js';
import { ROOT, cleanupTempDirs, expectAllGone, pidAlive, tempDir } from '../helpers.js';

const APPENDER = join(ROOT, 'test/journal/fixtures/appender.mjs');
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.pid && pidAlive(c.pid)) c.kill('SIGKILL');
  cleanupTempDirs();
});

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Ack {
  seq: number;
  key: string;
  bytes: number;
}

/** Run the appender until `killAfter` acks, SIGKILL it, and return the acks it printed before dying. */
async function runAndKill(runDir: string, mode: 'create' | 'open', windowMs: number, loops: number, killAfter: number): Promise<Ack[]> {
  const child = spawn(process.execPath, [APPENDER, runDir, mode, String(windowMs), String(loops)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const acks: Ack[] = [];
  let buf = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /^ack (\d+) (\S+) (\d+)$/.exec(line);
      if (!m) continue;
      acks.push({ seq: Number(m[1]), key: m[2]!, bytes: Number(m[3]) });
      if (acks.length === killAfter) child.kill('SIGKILL');
    }
  });
  const end = await exited;
  // A line cut by the kill is not an ack: only complete lines count (the partial rest stays in buf).
  expect(end.signal, `appender ended on its own: ${stderr}`).toBe('SIGKILL');
  await expectAllGone([child.pid!]);
  return acks;
}

describe('journal under SIGKILL', () => {
  it('every acknowledged fact survives 20 random kills, and the journal reads cleanly after each', async () => {
    const seed = Number(process.env.JOURNAL_SEED ?? Date.now() % 2 ** 31);
    console.log(`journal SIGKILL test seed: ${seed} (replay with JOURNAL_SEED=${seed})`);
    const random = rng(seed);
    const runDir = tempDir('journal-kill-');
    const file = join(runDir, JOURNAL_FILE);
    const acked = new Map<number, Ack>();
    let torn = 0;
    for (let round = 0; round < 20; round++) {
      const windowMs = [0, 2, 5][Math.floor(random() * 3)]!;
      const loops = 1 + Math.floor(random() * 16);
      const killAfter = 1 + Math.floor(random() * 200);
      const acks = await runAndKill(runDir, round === 0 ? 'create' : 'open', windowMs, loops, killAfter);
      expect(acks.length, `round ${round} (seed ${seed})`).toBeGreaterThanOrEqual(killAfter);
      for (const a of acks) {
        // An ack's seq must never be handed out twice: a reopened journal continues after the last fact.
        expect(acked.has(a.seq), `seq ${a.seq} acked twice (round ${round}, seed ${seed})`).toBe(false);
        acked.set(a.seq, a);
      }
      const contents = readJournalFile(file);
      if (contents.torn) torn++;
      const bySeq = contents.facts;
      for (const a of acked.values()) {
        const f = bySeq[a.seq];
        expect(f, `acked seq ${a.seq} missing after round ${round} (seed ${seed})`).toBeDefined();
        expect(f!.type === 'memory.write' && f.key === a.key && typeof f.value === 'string' && f.value.length === a.bytes, `seq ${a.seq} holds another fact (seed ${seed})`).toBe(true);
      }
    }
    console.log(`journal SIGKILL test: ${acked.size} acked facts checked over 20 kills; ${torn} kills left a torn tail`);
  });
});
