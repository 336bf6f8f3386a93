/**
 * agent.yaml `standby`: a warm spare takes a crashed process's retry (it was alive and ready before the
 * crash), a new spare is started behind it, the spares are listed by `agentos ps`, and every pid is gone
 * once the run ends.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlReply } from '../../src/control/protocol.js';
import type { RunReport } from '../../src/observe/report.js';
import { FIXTURE_AGENTS, cleanupTempDirs, expectAllGone, readEvents, readJson, runCli, runPids, startCli, tempDir, waitFor, writePlan } from '../helpers.js';

let runtime: string;
beforeAll(() => {
  runtime = tempDir('agentos-rt-');
  process.env.AGENTOS_RUNTIME_DIR = runtime;
});
afterAll(() => {
  delete process.env.AGENTOS_RUNTIME_DIR;
  cleanupTempDirs();
});

describe('standby processes', () => {
  it('a crash with standby: 1 retries on the spare that was already alive, and a new spare replaces it', async () => {
    const gateDir = tempDir();
    const gate = join(gateDir, 'gate');
    // `hold` keeps the run open until the replacement spare is ready, so the test sees it replenished.
    const { dir, plan } = writePlan([
      { id: 'c', agent: 'standby_agent', input: { crash: true } },
      { id: 'hold', agent: 'gate_agent', input: { gate } },
    ]);
    const reportFile = join(dir, 'report.json');
    const runs = join(dir, 'runs');
    const cli = startCli(['run', plan, '--agents', FIXTURE_AGENTS, '--runs-dir', runs, '--report', reportFile]);
    try {
      let events: Array<Record<string, unknown>> = [];
      const readyPids = (): number[] => events.filter((e) => e.type === 'process.ready' && e.agent === 'standby_agent').map((e) => e.pid as number);
      await waitFor(() => {
        const run = existsSync(runs) ? readEvents(join(runs, readdirOne(runs))) : [];
        events = run;
        return readyPids().length >= 3;
      }, 30_000, 'three standby_agent processes ready (instance, spare, the spare replaced)');
      // agentos ps lists the live spare as such
      const ps = await runCli(['ps', '--json']);
      const kernels = JSON.parse(ps.stdout) as Array<Extract<ControlReply, { ok: true }>>;
      const mine = kernels.find((k) => k.kernel.kernel_pid === cli.pid)!;
      const live = mine.processes.filter((p) => p.agent === 'standby_agent' && p.state === 'idle');
      expect(live.filter((p) => p.standby)).toHaveLength(1);
      expect(live.filter((p) => !p.standby)).toHaveLength(1);
      expect((await runCli(['ps'])).stdout).toMatch(/standby_agent#\d\s+idle \(standby\)/);
      writeFileSync(gate, '');
      const res = await cli;
      expect(res.exitCode, res.all).toBe(0);
    } finally {
      writeFileSync(gate, '');
      cli.kill('SIGINT');
      await cli;
    }
    const r = readJson<RunReport>(reportFile);
    const task = r.tasks.find((t) => t.id === 'c')!;
    expect(task.state).toBe('succeeded');
    expect(task.attempts).toBe(2);
    const crashedPid = task.failures[0]!.pid;
    const retryPid = (task.output as { pid: number }).pid;
    expect(retryPid).not.toBe(crashedPid);

    const events = readEvents(join(runs, r.run_id));
    const readyAt = (pid: number): number => events.find((e) => e.type === 'process.ready' && e.pid === pid)!.t as number;
    const exitAt = events.find((e) => e.type === 'process.exited' && e.pid === crashedPid)!.t as number;
    // The retry's process was ready before the crash: the retry was a dispatch, not a spawn.
    expect(readyAt(retryPid)).toBeLessThan(exitAt);
    const running2 = events.find((e) => e.type === 'task.state' && e.task === 'c' && e.state === 'running' && e.attempt === 2)!;
    expect(running2.pid).toBe(retryPid);

    // Replenished: a third process became ready after the crash and stayed a spare (no task) to the end.
    const procs = r.processes.filter((p) => p.agent === 'standby_agent');
    expect(procs).toHaveLength(3);
    const spare = procs.find((p) => p.pid !== crashedPid && p.pid !== retryPid)!;
    expect(readyAt(spare.pid)).toBeGreaterThan(exitAt);
    expect(spare.served).toBe(0);
    expect(spare.standby).toBe(true);
    expect(procs.find((p) => p.pid === retryPid)!.standby).toBe(false);
    const agent = r.agents.find((a) => a.name === 'standby_agent')!;
    expect(agent.standby?.processes).toBe(1);
    expect(agent.restarts).toBe(1);
    await expectAllGone(runPids(r));
  }, 60_000);
});

function readdirOne(dir: string): string {
  return readdirSync(dir)[0] ?? '';
}
