/** The context manager through real agent processes: isolation, stamped shared memory, budgeted context, token quota. */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from '../helpers.js';
import { runPlan } from '../comms-helpers.js';
import type { CompressionResult } from '../../src/context/compress.js';

afterAll(cleanupTempDirs);

describe('context manager', () => {
  it('keeps task-local memory private, even from the same process; shared writes carry the writer', async () => {
    const { res, output } = await runPlan([
      { id: 'a', agent: 'ctx_agent', input: { do: ['write-local', 'read-local', 'write-shared'] } },
      { id: 'b', agent: 'ctx_agent', deps: ['a'], input: { do: ['read-local', 'forge-local', 'write-local', 'read-local', 'read-shared'], victim: 'a' } },
    ]);
    expect(res.exitCode, res.all).toBe(0);
    expect(output('a').local).toBe('secret of a');
    const b = output('b') as { local: string; forged: string; shared: { value: string; writer: { task: string; agent: string } } };
    // b ran after a on the only ctx_agent process: still it cannot see a's local memory
    expect(b.forged).toBe('E_SCHEMA');
    expect(b.local).toBe('secret of b');
    expect(b.shared.value).toMatch(/^a note 0/);
    expect(b.shared.writer).toMatchObject({ task: 'a', agent: 'ctx_agent', instance: 1 });
  });

  it('hands a task its dependencies + shared memory within context_tokens, counted with BPE, and reports the savings', async () => {
    const { res, report, events, output } = await runPlan([
      { id: 'writer', agent: 'ctx_agent', input: { do: ['write-shared'], entries: 30, keys: 10, repeat: 3 } },
      { id: 'reader', agent: 'ctx_agent', deps: ['writer'], input: { do: ['context', 'count'] } },
    ]);
    expect(res.exitCode, res.all).toBe(0);
    const r = output('reader') as { context: CompressionResult; count: number };
    expect(r.count).toBe(2);
    const c = r.context;
    expect(c.budget).toBe(200); // ctx_agent's context_tokens
    expect(c.tokens_before).toBeGreaterThan(200);
    expect(c.tokens_after).toBeLessThanOrEqual(200);
    expect(c.compressed).toBe(true);
    expect(c.superseded_dropped).toBe(20); // 30 writes to 10 keys
    const dep = c.entries.find((e) => e.source === 'dependency');
    expect(dep?.key).toBe('writer');
    expect(dep?.verbatim).toBe(true);
    expect(report.context!.tokenizer).toBe('cl100k_base');
    expect(report.context!.per_task.reader).toMatchObject({ tokens_before: c.tokens_before, tokens_after: c.tokens_after, compressions: 1 });
    expect(report.context!.tokens_saved).toBe(c.tokens_before - c.tokens_after);
    expect(report.context!.chars_saved).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'context.compressed' && e.task === 'reader')).toBe(true);
    // token accounting in the ACB
    expect(report.processes.find((p) => p.agent === 'ctx_agent')!.tokens_used).toBe(c.tokens_after);
  });

  it('fails further work of an agent that spent its token_budget with kind token_quota', async () => {
    const { res, report, events } = await runPlan([
      { id: 't1', agent: 'ctx_spender', input: { words: 100 } },
      { id: 't2', agent: 'ctx_spender', deps: ['t1'], input: { words: 1 } },
    ]);
    expect(res.exitCode, res.all).toBe(1);
    expect(report.tasks.find((t) => t.id === 't1')!.state).toBe('succeeded');
    const t2 = report.tasks.find((t) => t.id === 't2')!;
    expect(t2.state).toBe('failed');
    expect(t2.error?.kind).toBe('token_quota');
    expect(t2.failures.map((f) => f.kind)).toEqual(['token_quota']);
    expect(t2.attempts).toBe(0); // never dispatched to a process
    expect(report.context!.per_agent.ctx_spender).toMatchObject({ token_budget: 60, quota_exceeded: true });
    expect(report.context!.per_agent.ctx_spender!.tokens_used).toBeGreaterThanOrEqual(100);
    expect(events.some((e) => e.type === 'token.quota_exceeded' && e.agent === 'ctx_spender')).toBe(true);
  });
});
