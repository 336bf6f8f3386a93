/**
 * The agent's channel, end to end through the real CLI and kernel: results the kernel refuses fail at
 * once (never by the timeout), values of any shape thrown by a handler are `exception`, outputs over
 * max_output_mb are `invalid_output`, and a channel the agent closes (busy or idle) is noticed at once.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, runFixturePlan, runPids } from '../helpers.js';

afterAll(cleanupTempDirs);

describe('a thrown value of any shape is `exception`, never a crash', () => {
  const modes = ['string', 'number', 'undefined', 'null', 'symbol', 'null_proto', 'throwing_getters', 'throwing_tostring', 'proxy', 'long_message', 'numeric_name'];

  it('thrown and rejected, every shape ends as exception on the same warm process', async () => {
    const tasks = modes.flatMap((mode) => [
      { id: `throw_${mode}`, agent: 'odd_thrower', input: { mode } },
      { id: `reject_${mode}`, agent: 'odd_thrower', input: { mode, reject: true } },
    ]);
    const { res, report } = await runFixturePlan(tasks);
    expect(report, res.all).toBeDefined();
    for (const t of report!.tasks) {
      expect(t.failures.map((f) => f.kind), t.id).toEqual(['exception']);
      expect(typeof t.failures[0]!.message, t.id).toBe('string');
    }
    const msg = (id: string): string => report!.tasks.find((t) => t.id === id)!.failures[0]!.message;
    expect(msg('throw_string')).toBe('a plain string');
    expect(msg('throw_symbol')).toBe('Symbol(odd)');
    expect(msg('throw_null_proto')).toMatch(/no prototype/);
    // an over-long message is cut to the kernel's limit, not refused
    expect(msg('throw_long_message').length).toBeLessThanOrEqual(100_000);
    expect(msg('throw_long_message')).toMatch(/more characters cut/);
    expect(report!.tasks.find((t) => t.id === 'throw_numeric_name')!.error).toMatchObject({ kind: 'exception' });
    // none of it cost a process
    expect(report!.agents.find((a) => a.name === 'odd_thrower')!.restarts).toBe(0);
    await expectAllGone(runPids(report!));
  });
});

describe('results the kernel cannot take fail at once', () => {
  it('a refused result frame is invalid_output at once; an output whose JSON is undefined is null; a too-big output is invalid_output', async () => {
    const t0 = Date.now();
    const { res, report } = await runFixturePlan([
      { id: 'refused', agent: 'odd_thrower', input: { mode: 'refused_result' } },
      { id: 'tojson', agent: 'odd_thrower', input: { mode: 'tojson_undefined' } },
      { id: 'big', agent: 'violator_agent', input: { mode: 'big_output' } },
    ]);
    expect(report, res.all).toBeDefined();
    const t = (id: string) => report!.tasks.find((x) => x.id === id)!;
    expect(t('refused').failures.map((f) => [f.kind, f.message])).toEqual([['invalid_output', expect.stringMatching(/result refused by the kernel: .*error\.name/)]]);
    expect(t('tojson').state).toBe('succeeded');
    expect(t('tojson').output).toBeNull();
    expect(t('big').failures.map((f) => f.kind)).toEqual(['invalid_output']);
    expect(t('big').failures[0]!.message).toMatch(/output is \d+ bytes as JSON .* over the 1\.0 MiB limit \(agent\.yaml max_output_mb\)/);
    // the default timeout is 30 s: nothing here waited for it
    expect(Date.now() - t0).toBeLessThan(25_000);
    await expectAllGone(runPids(report!));
  });
});

describe('a channel the agent closes is noticed at once', () => {
  it('busy: the attempt fails as crash ("channel closed") and the retry succeeds on a new process', async () => {
    const { res, report } = await runFixturePlan([{ id: 'c', agent: 'closer_agent', input: { when: 'busy' } }]);
    expect(res.exitCode, res.all).toBe(0);
    const c = report!.tasks[0]!;
    expect(c.failures.map((f) => f.kind)).toEqual(['crash']);
    expect(c.failures[0]!.message).toMatch(/channel closed/);
    expect(c.output).toMatchObject({ attempt: 2 });
    expect((c.output as { pid: number }).pid).not.toBe(c.failures[0]!.pid);
    // timeout_ms is 20 s: the failure came long before
    expect(c.duration_ms).toBeLessThan(10_000);
    await expectAllGone(runPids(report!));
  });

  it('idle: the process is ended and replaced before it gets a task', async () => {
    const { res, report } = await runFixturePlan([
      { id: 'first', agent: 'slow_agent', input: { ms: 1000 } },
      { id: 'c', agent: 'closer_idle', deps: ['first'], input: {} },
    ]);
    try {
      expect(res.exitCode, res.all).toBe(0);
      const c = report!.tasks.find((t) => t.id === 'c')!;
      expect(c.failures).toEqual([]);
      expect(c.attempts).toBe(1);
      const procs = report!.processes.filter((p) => p.agent === 'closer_idle');
      expect(procs.length).toBeGreaterThanOrEqual(2);
      expect(procs[0]!.served).toBe(0);
      expect(procs[0]!.exit?.reason).toBe('protocol');
      expect((c.output as { pid: number }).pid).not.toBe(procs[0]!.pid);
      await expectAllGone(runPids(report!));
    } finally {
      if (report) rmSync(join(tmpdir(), `agentos-closer-${report.run_id}`), { force: true });
    }
  });
});

describe('a flood of frames', () => {
  it('100,000 log frames are all delivered, then the result; the run ends right after', async () => {
    const n = 100_000;
    const { res, report, dir } = await runFixturePlan([{ id: 'f', agent: 'flood_agent', input: { n } }]);
    expect(res.exitCode, res.all).toBe(0);
    expect(report!.tasks[0]!.output).toEqual({ sent: n });
    const events = readFileSync(join(dir, 'runs', report!.run_id, 'events.jsonl'), 'utf8');
    expect(events.split('\n').filter((l) => l.includes('"type":"task.log"')).length).toBe(n);
    await expectAllGone(runPids(report!));
  }, 120_000);
});
