/** The KV page store through real agent processes (ctx.kv over IPC): sharing, ownership, no leak after a crash. */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from '../helpers.js';
import { runPlan } from '../comms-helpers.js';
import type { KvStats } from '../../src/kvcache/store.js';

afterAll(cleanupTempDirs);

interface KvOut {
  pid: number;
  base: string;
  prefix_hits: number;
  forks: string[];
  tokens_ok: boolean;
  steal?: string;
  stats: KvStats & { mine: { pages: number; bytes: number } };
}

describe('ctx.kv over IPC', () => {
  it('shares a common prefix between agent processes, forks without copying, and refuses another process its sequences', async () => {
    const { res, report, output } = await runPlan([
      { id: 'first', agent: 'kv_agent', input: { prefix: 64, private: 8, forks: 2, seed: 1 } },
      // depends on first, so the prefix is already cached; runs on whichever process is free
      { id: 'second', agent: 'kv_agent', deps: ['first'], input: { prefix: 64, private: 8, forks: 2, seed: 2 } },
      // another agent (so surely another process) tries to free the first sequence of the run
      { id: 'thief', agent: 'kv_other', deps: ['second'], input: { seed: 3, steal: 's1' } },
    ]);
    expect(res.exitCode, res.all).toBe(0);
    const a = output('first') as unknown as KvOut;
    const b = output('second') as unknown as KvOut;
    expect(a.tokens_ok && b.tokens_ok).toBe(true);
    expect(a.prefix_hits).toBe(0);
    expect(b.prefix_hits).toBe(4); // 64 tokens / 16 per page
    const thief = output('thief') as unknown as KvOut;
    expect(thief.pid).not.toBe(a.pid);
    expect(thief.steal).toBe('E_KV_NO_SEQ');
    expect(thief.stats.logical_pages).toBe(30); // nothing of s1 was freed
    const st = b.stats;
    // 2 tasks x (base of 72 tokens = 5 pages + 2 forks of 74 tokens = 5 pages) = 30 logical pages
    expect(st.logical_pages).toBe(30);
    // 4 shared prefix pages + per task: base tail page + 2 COW tail copies = 3 -> 4 + 2 x 3 = 10
    expect(st.physical_pages).toBe(10);
    expect(st.cow_copies).toBe(4);
    expect(st.bytes_saved).toBe((30 - 10) * st.page_bytes);
    expect(st.mine.bytes).toBeGreaterThan(0);
    expect(st.mine.bytes).toBeLessThan(15 * st.page_bytes); // shared pages are charged pro rata
    // after shutdown every process has ended and freed its references
    expect(report.kv!.after_shutdown.physical_pages).toBe(0);
  });

  it('frees every page of a process that crashes (no leak), and the retry still gets prefix hits from the cache', async () => {
    const { res, report, events, output } = await runPlan([{ id: 'crashy', agent: 'kv_agent', input: { prefix: 64, private: 20, forks: 3, seed: 5, crash_on_first: true } }]);
    expect(res.exitCode, res.all).toBe(0);
    const out = output('crashy') as unknown as KvOut;
    const task = report.tasks.find((t) => t.id === 'crashy')!;
    expect(task.failures.map((f) => f.kind)).toEqual(['crash']);
    const crashedPid = report.agents.find((a) => a.name === 'kv_agent')!.pids.find((p) => p !== out.pid);
    const released = events.filter((e) => e.type === 'kv.released');
    expect(released.find((e) => e.pid === crashedPid)?.sequences).toBe(4);
    // the retry sees only its own pages: the crashed process's private pages are gone
    expect(out.stats.sequences).toBe(4);
    expect(out.stats.physical_pages).toBe(4 + 2 + 3); // 4 prefix (hit from the cache) + 2 private + 3 COW tails
    expect(out.prefix_hits).toBe(4);
    expect(report.kv!.after_shutdown.physical_pages).toBe(0);
    expect(report.kv!.after_shutdown.sequences).toBe(0);
    const crashedAcb = report.processes.find((p) => p.pid === crashedPid)!;
    expect(crashedAcb.kv_pages).toBe(0);
  });
});
