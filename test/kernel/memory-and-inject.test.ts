/** V8 heap-limit aborts, and faults injected into the real child with --inject. */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, runFixturePlan, runPids } from '../helpers.js';

afterAll(cleanupTempDirs);

describe('memory', () => {
  it('a V8 heap-limit abort is reported as memory, not crash', async () => {
    // Sampler period far beyond the run and no memory cgroup (its limit would OOM-kill first, see
    // test/process/containment-kernel.test.ts): only --max-old-space-size can stop the heap growth.
    process.env.AGENTOS_CONTAINMENT = 'proc-walk';
    const { report, res } = await runFixturePlan([{ id: 'h', agent: 'heap_agent' }], ['--sample-ms', '60000']).finally(() => delete process.env.AGENTOS_CONTAINMENT);
    expect(report, res.all).toBeDefined();
    const failures = report!.tasks[0]!.failures;
    expect(failures.map((f) => f.kind)).toEqual(['memory', 'memory']);
    for (const f of failures) expect(f.message).toMatch(/V8 heap limit reached \(--max-old-space-size=64\)/);
    await expectAllGone(runPids(report!));
  });
});

describe('--inject makes the real child commit the fault on the chosen attempt', () => {
  it.each([
    ['crash', 'crash'],
    ['exit', 'crash'],
    ['hang', 'timeout'],
    ['oom', 'memory'],
    ['throw', 'exception'],
  ])('%s on attempt 1 -> %s, then attempt 2 succeeds', async (fault, kind) => {
    const { res, report } = await runFixturePlan([{ id: 't', agent: 'ok_agent', input: { n: 1 } }], ['--inject', `ok_agent:${fault}@1`]);
    expect(res.exitCode, res.all).toBe(0);
    const t = report!.tasks[0]!;
    expect(t.failures.map((f) => f.kind)).toEqual([kind]);
    expect(t.attempts).toBe(2);
    expect(t.output).toMatchObject({ task: 't', attempt: 2, input: { n: 1 } });
    expect(report!.metrics.faults_injected).toBe(1);
    await expectAllGone(runPids(report!));
  }, 90_000);

  it('garbage: the junk on the channel is a protocol violation; the process is ended and attempt 2 succeeds', async () => {
    const { res, report } = await runFixturePlan([{ id: 't', agent: 'ok_agent' }], ['--inject', 'ok_agent:garbage@1']);
    expect(res.exitCode, res.all).toBe(0);
    const t = report!.tasks[0]!;
    expect(t.failures.map((f) => f.kind)).toEqual(['protocol']);
    expect(t.failures[0]!.message).toMatch(/protocol violation: not JSON/);
    expect(t.attempts).toBe(2);
    expect(report!.metrics.ipc_rejected).toBe(1);
    await expectAllGone(runPids(report!));
  });

  it('without @ATTEMPT the fault hits every attempt and the task fails', async () => {
    const { res, report } = await runFixturePlan([{ id: 't', agent: 'ok_agent' }, { id: 'after', agent: 'ok_agent', deps: ['t'] }], ['--inject', 'ok_agent:throw']);
    expect(res.exitCode).toBe(1);
    expect(report!.tasks.find((t) => t.id === 't')!.failures.map((f) => f.kind)).toEqual(['exception', 'exception']);
    expect(report!.tasks.find((t) => t.id === 'after')!.state).toBe('skipped');
    await expectAllGone(runPids(report!));
  });
});
