import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// The built package, as a user imports it (paths inside it resolve from dist/).
import { runPlan, InputError } from '../../dist/src/index.js';
import { cleanupTempDirs, expectAllGone, FIXTURE_AGENTS, ROOT, tempDir, waitFor } from '../helpers.js';

afterAll(cleanupTempDirs);

const listeners = (): number[] => ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'uncaughtException', 'unhandledRejection', 'exit'].map((s) => process.listenerCount(s));

describe('runPlan(): a plan run from code', () => {
  it('resolves with the report of the crash demo (an injected crash retried), leaving no process and no signal handler', async () => {
    const before = listeners();
    const dir = tempDir();
    const report = await runPlan(join(ROOT, 'examples/crash-demo/plan.yaml'), {
      agents: [join(ROOT, 'examples/crash-demo/agents')],
      runsDir: join(dir, 'runs'),
      inject: ['patch_agent:crash@1'],
    });
    expect(report.status).toBe('succeeded');
    expect(report.tasks.find((t) => t.id === 'patch')!.failures.map((f) => f.kind)).toEqual(['crash']);
    await expectAllGone(report.agents.flatMap((a) => a.pids));
    expect(listeners()).toEqual(before);
    expect(existsSync(join(report.run_dir, 'report.json'))).toBe(true);
  });

  it('an AbortSignal interrupts the run: the running attempt is ended, the report says interrupted', async () => {
    const dir = tempDir();
    const marker = join(dir, 'started.pid');
    const plan = join(dir, 'plan.yaml');
    writeFileSync(plan, `name: abortable\ntasks:\n  - { id: hold, agent: marker_agent, input: { marker: ${JSON.stringify(marker)} } }\n  - { id: after, agent: ok_agent, deps: [hold] }\n`);
    const ac = new AbortController();
    const done = runPlan(plan, { agents: [FIXTURE_AGENTS], runsDir: join(dir, 'runs'), signal: ac.signal });
    await waitFor(() => existsSync(marker) && readFileSync(marker, 'utf8').length > 0, 30_000, 'the attempt to start');
    const agentPid = Number(readFileSync(marker, 'utf8'));
    ac.abort('SIGINT');
    const report = await done;
    expect(report.status).toBe('interrupted');
    expect(report.tasks.find((t) => t.id === 'after')!.state).not.toBe('succeeded');
    await expectAllGone([agentPid, ...report.agents.flatMap((a) => a.pids)]);
  });

  it('bad input rejects with a coded InputError before anything starts', async () => {
    const dir = tempDir();
    await expect(runPlan(join(dir, 'missing.yaml'), { runsDir: join(dir, 'runs') })).rejects.toMatchObject({ code: 'E_FILE_NOT_FOUND' });
    await expect(runPlan(join(ROOT, 'examples/crash-demo/plan.yaml'), { concurrency: 0 })).rejects.toBeInstanceOf(InputError);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });
});
