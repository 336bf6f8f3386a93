/**
 * One misbehaving fixture agent per fault, each run through the real CLI and kernel: the task's state,
 * the failure kind of every attempt, the fallback, the dependents, and that every pid is gone.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, readEvents, runFixturePlan, runPids } from '../helpers.js';

afterAll(cleanupTempDirs);

const cases = [
  { agent: 'crash_agent', kind: 'crash', message: /SIGABRT/, killsProcess: true },
  { agent: 'exit_agent', kind: 'crash', message: /exited with code 0 without a result/, killsProcess: true },
  { agent: 'hang_agent', kind: 'timeout', message: /no result within 400 ms/, killsProcess: true },
  // With a memory cgroup (containment) the kernel's OOM killer holds the quota at the byte, before V8 or the sampler.
  { agent: 'heap_agent', kind: 'memory', message: /heap limit|RSS over|cgroup memory limit of 64 MB/, killsProcess: true },
  { agent: 'rss_agent', kind: 'memory', message: /RSS over the 96 MB quota|cgroup memory limit of 96 MB/, killsProcess: true },
  // a thrown error is the handler's failure, not the process's: the same warm process serves the retry
  { agent: 'throw_agent', kind: 'exception', message: /fixture failure: value out of range/, killsProcess: false },
  // raw bytes on the channel break the wire protocol: the process is ended, the attempt is `protocol`
  { agent: 'garbage_agent', kind: 'protocol', message: /protocol violation: not JSON/, killsProcess: true },
] as const;

describe('a misbehaving agent costs retries, then the fallback serves the task', () => {
  it.each(cases)('$agent -> $kind on every attempt, rescued by the fallback', async ({ agent, kind, message, killsProcess }) => {
    const { res, report } = await runFixturePlan([
      { id: 'bad', agent },
      { id: 'after', agent: 'ok_agent', deps: ['bad'] },
      { id: 'unrelated', agent: 'ok_agent' },
    ]);
    expect(report, res.all).toBeDefined();
    const r = report!;
    expect(res.exitCode, res.all).toBe(0);
    const bad = r.tasks.find((t) => t.id === 'bad')!;
    expect(bad.state).toBe('succeeded');
    expect(bad.served_by).toBe('rescuer');
    expect(bad.failures.map((f) => [f.agent, f.kind])).toEqual([
      [agent, kind],
      [agent, kind],
    ]);
    for (const f of bad.failures) expect(f.message).toMatch(message);
    expect(bad.attempts).toBe(3);
    expect(bad.output).toMatchObject({ rescued: true, task: 'bad', attempt: 3 });
    expect(r.tasks.find((t) => t.id === 'after')!.state).toBe('succeeded');
    expect((r.tasks.find((t) => t.id === 'after')!.output as { deps: unknown }).deps).toEqual({ bad: bad.output });
    // a fault that ends the process makes the pool replace it; an exception does not
    const a = r.agents.find((x) => x.name === agent)!;
    if (killsProcess) {
      expect(a.pids.length).toBeGreaterThanOrEqual(3);
      expect(a.restarts).toBeGreaterThanOrEqual(2);
      expect(new Set(bad.failures.map((f) => f.pid)).size).toBe(2);
    } else {
      expect(a.pids).toHaveLength(1);
      expect(a.restarts).toBe(0);
    }
    await expectAllGone(runPids(r));
  });

  it('carries the stack of a thrown error over from the child', async () => {
    const { report } = await runFixturePlan([{ id: 't', agent: 'throw_agent' }]);
    const f = report!.tasks[0]!.failures[0]!;
    expect(f.kind).toBe('exception');
    expect(f.stack).toMatch(/RangeError: fixture failure/);
    expect(f.stack).toMatch(/throw_agent\/handler\.js/);
    await expectAllGone(runPids(report!));
  });

  it('an output that cannot be serialised is invalid_output, and the process survives', async () => {
    const { res, report } = await runFixturePlan([{ id: 't', agent: 'invalid_output_agent' }]);
    expect(res.exitCode, res.all).toBe(0);
    const t = report!.tasks[0]!;
    expect(t.failures.map((f) => f.kind)).toEqual(['invalid_output']);
    expect(t.served_by).toBe('rescuer');
    // invalid output is the handler's fault, not the process's: no restart
    expect(report!.agents.find((a) => a.name === 'invalid_output_agent')!.restarts).toBe(0);
    await expectAllGone(runPids(report!));
  });
});

describe('a failed task skips its dependents transitively; unrelated branches go on', () => {
  it('skips a -> b, runs c, exits 1', async () => {
    const { res, report } = await runFixturePlan([
      { id: 'root', agent: 'doomed_agent' },
      { id: 'a', agent: 'ok_agent', deps: ['root'] },
      { id: 'b', agent: 'ok_agent', deps: ['a'] },
      { id: 'c', agent: 'ok_agent' },
      { id: 'd', agent: 'ok_agent', deps: ['c'] },
    ]);
    expect(res.exitCode).toBe(1);
    const state = Object.fromEntries(report!.tasks.map((t) => [t.id, t.state]));
    expect(state).toEqual({ root: 'failed', a: 'skipped', b: 'skipped', c: 'succeeded', d: 'succeeded' });
    expect(report!.status).toBe('failed');
    expect(report!.tasks.find((t) => t.id === 'root')!.error).toMatchObject({ kind: 'exception', message: 'doomed' });
    expect(report!.tasks.find((t) => t.id === 'a')!.attempts).toBe(0);
    await expectAllGone(runPids(report!));
  });
});

describe('the kernel trusts nothing a child sends', () => {
  const modes = [
    ['garbage', /not JSON/],
    ['empty', /not JSON/],
    ['array', /not a JSON object/],
    ['string', /not a JSON object/],
    ['node_handle', /unknown message type "net.Socket"/],
    ['notype', /without a string "type"/],
    ['unknown_type', /unknown message type "bogus"/],
    ['schema', /log message: level/],
    ['foreign_log', /log for a request this process does not hold/],
    ['foreign_result', /result for .*not-mine, which this process does not hold/],
    ['oversized', /frame over the size limit: more than 1114112 bytes/],
  ] as const;

  it('every broken rule of the wire protocol ends the process at once as `protocol`; other tasks go on', async () => {
    const { res, report } = await runFixturePlan([
      ...modes.map(([mode]) => ({ id: mode, agent: 'violator_agent', input: { mode } })),
      { id: 'unrelated', agent: 'ok_agent' },
    ]);
    expect(report, res.all).toBeDefined();
    expect(res.exitCode).toBe(1);
    for (const [mode, reason] of modes) {
      const t = report!.tasks.find((x) => x.id === mode)!;
      expect(t.state, mode).toBe('failed');
      expect(t.failures.map((f) => f.kind), mode).toEqual(['protocol']);
      expect(t.failures[0]!.message, mode).toMatch(/^protocol violation: /);
      expect(t.failures[0]!.message, mode).toMatch(reason);
    }
    expect(report!.tasks.find((t) => t.id === 'unrelated')!.state).toBe('succeeded');
    // one process per violation, each ended by the kernel (handlers wait forever otherwise)
    const procs = report!.processes.filter((p) => p.agent === 'violator_agent' && p.served > 0);
    expect(procs).toHaveLength(modes.length);
    for (const p of procs) expect(p.exit?.reason).toBe('protocol');
    expect(report!.metrics.ipc_rejected).toBe(modes.length);
    await expectAllGone(runPids(report!));
  });

  it('a forged result for another task changes nothing and ends the forger', async () => {
    const { res, report, dir } = await runFixturePlan([
      { id: 'victim', agent: 'slow_agent', input: { ms: 800 } },
      { id: 'forger', agent: 'forger_agent', input: { victim: 'victim' } },
    ]);
    expect(res.exitCode, res.all).toBe(1);
    const victim = report!.tasks.find((t) => t.id === 'victim')!;
    expect(victim.state).toBe('succeeded');
    expect(victim.output).toMatchObject({ task: 'victim' });
    expect(victim.output).not.toHaveProperty('forged');
    expect(victim.served_by).toBe('slow_agent');
    const forger = report!.tasks.find((t) => t.id === 'forger')!;
    expect(forger.failures.map((f) => f.kind)).toEqual(['protocol']);
    const forgerAcb = report!.processes.find((p) => p.agent === 'forger_agent' && p.served > 0)!;
    // the first forged line ends it: nothing after it is read
    expect(forgerAcb.rejected_messages).toBe(1);
    const rejected = readEvents(`${dir}/runs/${report!.run_id}`).filter((e) => e.type === 'ipc.rejected');
    expect(rejected.length).toBe(1);
    await expectAllGone(runPids(report!));
  });
});

describe('termination reaches the whole process group', () => {
  it('a hung handler and the grandchild it started both die on timeout', async () => {
    const { res, report, dir } = await runFixturePlan([{ id: 'g', agent: 'grandchild_agent' }]);
    expect(res.exitCode).toBe(1);
    expect(report!.tasks[0]!.failures.map((f) => f.kind)).toEqual(['timeout']);
    const log = readEvents(`${dir}/runs/${report!.run_id}`).find((e) => e.type === 'task.log' && e.msg === 'grandchild');
    const grandchild = (log?.data as { pid: number }).pid;
    expect(grandchild).toBeGreaterThan(0);
    await expectAllGone([...runPids(report!), grandchild]);
  });

  it('a handler that ignores SIGTERM is SIGKILLed after the grace', async () => {
    const { report } = await runFixturePlan([{ id: 's', agent: 'sigterm_ignorer' }]);
    const f = report!.tasks[0]!.failures[0]!;
    expect(f.kind).toBe('timeout');
    expect(f.message).toMatch(/SIGKILL/);
    await expectAllGone(runPids(report!));
  });

  it('an idle agent that ignores the shutdown message and SIGTERM is SIGKILLed at the end of the run', async () => {
    const { res, report } = await runFixturePlan([{ id: 's', agent: 'stubborn_agent' }]);
    expect(res.exitCode, res.all).toBe(0);
    const acb = report!.processes.find((p) => p.agent === 'stubborn_agent')!;
    expect(acb.exit).toMatchObject({ signal: 'SIGKILL', reason: 'shutdown' });
    await expectAllGone(runPids(report!));
  });
});
