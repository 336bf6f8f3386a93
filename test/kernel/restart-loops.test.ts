/**
 * Restart loops always end: failed starts in a row open the circuit however far apart they are, the
 * init error is the task's error in report.json, and the restart counters agree everywhere (agents[],
 * metrics, the ACBs, the events).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/observe/report.js';
import { cleanupTempDirs, expectAllGone, readEvents, readJson, ROOT, runCli, runPids, writePlan, type PlanTask } from '../helpers.js';

afterAll(cleanupTempDirs);

const AGENTS = join(ROOT, 'test/fixtures/hostile-agents');

async function runHostile(tasks: PlanTask[]) {
  const { dir, plan } = writePlan(tasks);
  const reportFile = join(dir, 'report.json');
  const res = await runCli(['run', plan, '--agents', AGENTS, '--runs-dir', join(dir, 'runs'), '--report', reportFile], { timeoutMs: 45_000 });
  const report = existsSync(reportFile) ? readJson<RunReport>(reportFile) : undefined;
  return { res, report: report!, runDir: report ? join(dir, 'runs', report.run_id) : '' };
}

function countersAgree(report: RunReport, runDir: string, agent: string): number {
  const a = report.agents.find((x) => x.name === agent)!;
  const events = readEvents(runDir);
  expect(report.metrics.restarts).toBe(a.restarts);
  expect(events.filter((e) => e.type === 'process.restart' && e.agent === agent)).toHaveLength(a.restarts);
  expect(Math.max(...report.processes.filter((p) => p.agent === agent).map((p) => p.restarts))).toBe(a.restarts);
  return a.restarts;
}

describe('restart loops end', () => {
  it('a handler slower than ready_timeout_ms: three failed starts open the circuit, the run ends with the cause', async () => {
    const { res, report, runDir } = await runHostile([{ id: 't1', agent: 'slow_init' }]);
    expect(res.exitCode, res.all).toBe(1);
    const t1 = report.tasks[0]!;
    expect(t1.state).toBe('failed');
    expect(t1.error?.message).toMatch(/slow_init is stopped: 3 failed starts in a row \(circuit open\); last failure: .*did not report ready within 500 ms/);
    expect(report.agents[0]!.circuit_open).toBe(true);
    expect(countersAgree(report, runDir, 'slow_init')).toBe(3);
    expect(readEvents(runDir).filter((e) => e.type === 'process.starting')).toHaveLength(3);
    await expectAllGone(runPids(report));
  });

  it('a load error: its message is the task error in report.json; counters agree', async () => {
    const { res, report, runDir } = await runHostile([{ id: 't1', agent: 'load_error' }]);
    expect(res.exitCode, res.all).toBe(1);
    expect(report.tasks[0]!.error?.message).toMatch(/load_error is stopped: 2 failed starts in a row .*AGENTOS_FIXTURE_DB_URL is not set/);
    expect(countersAgree(report, runDir, 'load_error')).toBe(2);
    const open = readEvents(runDir).filter((e) => e.type === 'agent.circuit_open');
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ cause: 'failed_starts', last_error: expect.stringMatching(/AGENTOS_FIXTURE_DB_URL is not set/) });
    await expectAllGone(runPids(report));
  });
});
