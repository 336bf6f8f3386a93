/** Restart intensity: a crash loop opens the agent's circuit instead of respawning forever. */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, readEvents, runFixturePlan, runPids } from '../helpers.js';

afterAll(cleanupTempDirs);

describe('restart intensity', () => {
  it('more than max_restarts within the window opens the circuit; queued work goes to the fallback', async () => {
    const tasks = Array.from({ length: 6 }, (_, i) => ({ id: `t${i}`, agent: 'flaky_agent' }));
    const { res, report, dir } = await runFixturePlan(tasks, ['--concurrency', '1']);
    expect(res.exitCode, res.all).toBe(0);
    const r = report!;
    const flaky = r.agents.find((a) => a.name === 'flaky_agent')!;
    expect(flaky.circuit_open).toBe(true);
    // restart {max_restarts: 3}: the 4th restart in the window opens the circuit, so 4 processes died
    expect(flaky.restarts).toBe(4);
    expect(flaky.pids).toHaveLength(4);
    for (const t of r.tasks) {
      expect(t.state).toBe('succeeded');
      expect(t.served_by).toBe('rescuer');
    }
    const crashes = r.tasks.flatMap((t) => t.failures).filter((f) => f.agent === 'flaky_agent');
    expect(crashes).toHaveLength(4);
    expect(readEvents(`${dir}/runs/${r.run_id}`).filter((e) => e.type === 'agent.circuit_open')).toHaveLength(1);
    await expectAllGone(runPids(r));
  });

  it('an agent that can never start is stopped after its restart budget and its tasks fall back', async () => {
    const { res, report, dir } = await runFixturePlan([{ id: 'a', agent: 'bad_init_agent' }, { id: 'b', agent: 'bad_init_agent' }]);
    expect(res.exitCode, res.all).toBe(0);
    const r = report!;
    expect(r.tasks.every((t) => t.served_by === 'rescuer')).toBe(true);
    expect(r.tasks.every((t) => t.failures.length === 0)).toBe(true); // never got a process
    const events = readEvents(`${dir}/runs/${r.run_id}`);
    const initFailed = events.filter((e) => e.type === 'process.init_failed');
    expect(initFailed.length).toBe(3); // first start + 2 restarts, then the circuit opens
    expect(String(initFailed[0]!.message)).toMatch(/fixture: cannot initialise/);
    expect(r.agents.find((a) => a.name === 'bad_init_agent')!.circuit_open).toBe(true);
    await expectAllGone(runPids(r));
  });
});
