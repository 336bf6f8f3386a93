/**
 * Python agents through the real CLI and kernel (issue 13): the fault matrix with Python handlers (kinds
 * per attempt, the fallback, skipped dependents, every pid gone, a hanging grandchild ended with its
 * group), and a plan that mixes Python and Node agents. Skipped with a notice when python3 is absent
 * (failing under AGENTOS_REQUIRE_OPTIONAL).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/observe/report.js';
import { PYTHON3 } from '../../src/platform/tools.js';
import { FIXTURE_AGENTS, ROOT, cleanupTempDirs, expectAllGone, readEvents, runCli, runPids, writePlan, type PlanTask } from '../helpers.js';
import { optionalTool } from '../optional.js';

const PY = optionalTool(PYTHON3);
const PY_AGENTS = join(ROOT, 'test/fixtures/py-agents');

afterAll(cleanupTempDirs);

async function runPy(tasks: PlanTask[]) {
  const { dir, plan } = writePlan(tasks);
  const reportFile = join(dir, 'report.json');
  const res = await runCli(['run', plan, '--agents', PY_AGENTS, '--agents', FIXTURE_AGENTS, '--runs-dir', join(dir, 'runs'), '--report', reportFile], { timeoutMs: 120_000 });
  const report = existsSync(reportFile) ? (JSON.parse(readFileSync(reportFile, 'utf8')) as RunReport) : undefined;
  return { res, report, dir };
}

describe.skipIf(!PY)('Python agents: the fault matrix', () => {
  const cases = [
    { agent: 'py_crash', kind: 'crash', message: /SIGABRT/ },
    { agent: 'py_exit', kind: 'crash', message: /exited with code 0 without a result/ },
    { agent: 'py_hang', kind: 'timeout', message: /no result within 600 ms/ },
    { agent: 'py_rss', kind: 'memory', message: /RSS over the 96 MB quota|cgroup memory limit of 96 MB/ },
    { agent: 'py_raise', kind: 'exception', message: /fixture failure: value out of range/ },
    { agent: 'py_garbage', kind: 'protocol', message: /protocol violation: not JSON/ },
  ] as const;

  it.each(cases)('$agent -> $kind on every attempt, rescued by the Python fallback', async ({ agent, kind, message }) => {
    const { res, report } = await runPy([
      { id: 'bad', agent },
      { id: 'after', agent: 'ok_agent', deps: ['bad'] },
    ]);
    expect(report, res.all).toBeDefined();
    expect(res.exitCode, res.all).toBe(0);
    const bad = report!.tasks.find((t) => t.id === 'bad')!;
    expect(bad.failures.map((f) => [f.agent, f.kind])).toEqual([
      [agent, kind],
      [agent, kind],
    ]);
    for (const f of bad.failures) expect(f.message).toMatch(message);
    expect(bad.served_by).toBe('py_ok');
    expect(bad.output).toMatchObject({ task: 'bad', attempt: 3, runtime: 'python' });
    // the Node agent downstream gets the Python agent's output as its dependency
    expect((report!.tasks.find((t) => t.id === 'after')!.output as { deps: unknown }).deps).toEqual({ bad: bad.output });
    await expectAllGone(runPids(report!));
  });

  it('a hanging grandchild of a Python agent dies with its group on timeout; dependents are skipped', async () => {
    const { res, report, dir } = await runPy([
      { id: 'g', agent: 'py_grandchild' },
      { id: 'after', agent: 'py_ok', deps: ['g'] },
    ]);
    expect(res.exitCode, res.all).toBe(1);
    expect(report!.tasks.find((t) => t.id === 'g')!.failures.map((f) => f.kind)).toEqual(['timeout']);
    expect(report!.tasks.find((t) => t.id === 'after')!.state).toBe('skipped');
    const log = readEvents(join(dir, 'runs', report!.run_id)).find((e) => e.type === 'task.log' && e.msg === 'grandchild');
    const grandchild = (log?.data as { pid: number }).pid;
    expect(grandchild).toBeGreaterThan(0);
    await expectAllGone([...runPids(report!), grandchild]);
  });

  it('a Python agent gets ctx.task.key, its logs reach the events, Node deps reach it', async () => {
    const { res, report, dir } = await runPy([
      { id: 'n', agent: 'ok_agent' },
      { id: 'p', agent: 'py_ok', deps: ['n'] },
    ]);
    expect(res.exitCode, res.all).toBe(0);
    const p = report!.tasks.find((t) => t.id === 'p')!;
    expect(p.output).toMatchObject({ task: 'p', attempt: 1, key: `${report!.run_id}:p`, runtime: 'python' });
    expect((p.output as { deps: Record<string, unknown> }).deps.n).toEqual(report!.tasks.find((t) => t.id === 'n')!.output);
    const logs = readEvents(join(dir, 'runs', report!.run_id)).filter((e) => e.type === 'task.log' && e.task === 'p');
    expect(logs.map((e) => e.msg)).toEqual(['hello from python']);
    await expectAllGone(runPids(report!));
  });
});

describe.skipIf(!PY)('Python agents: ctx and the examples', () => {
  it('ctx.memory and ctx.kv round trips from Python', async () => {
    const { res, report } = await runPy([{ id: 'c', agent: 'py_ctx' }]);
    expect(res.exitCode, res.all).toBe(0);
    const out = report!.tasks[0]!.output as { memory: unknown; keys: unknown; kv: unknown };
    expect(out.memory).toMatchObject({ key: 'py/answer', value: { n: 42 } });
    expect(JSON.stringify(out.keys)).toContain('py/answer');
    expect(JSON.stringify(out.kv)).toMatch(/\[1,2,3,4,5\]/);
    await expectAllGone(runPids(report!));
  });

  it('examples/python: the crash demo workflow as Python agents survives a crash and a hang', async () => {
    const { dir } = writePlan([]);
    const reportFile = join(dir, 'r.json');
    const res = await runCli(['run', join(ROOT, 'examples/python/plan.yaml'), '--agents', join(ROOT, 'examples/python/agents'), '--inject', 'py_patch:crash@1', '--inject', 'py_test:hang@1', '--runs-dir', join(dir, 'runs'), '--report', reportFile], { timeoutMs: 120_000 });
    expect(res.exitCode, res.all).toBe(0);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as RunReport;
    const kinds = Object.fromEntries(report.tasks.map((t) => [t.id, t.failures.map((f) => f.kind)]));
    expect(kinds).toEqual({ analyze: [], patch: ['crash'], test: ['timeout'], report: [] });
    expect(report.tasks.find((t) => t.id === 'report')!.output).toEqual({ summary: "fixed: 'a - b' -> 'a + b' (4/4 cases pass)", fixed: true });
    await expectAllGone(runPids(report));
  });

  it('examples/python: Python <-> Node bus messages arrive in order with kernel-stamped senders', async () => {
    const { dir } = writePlan([]);
    const reportFile = join(dir, 'r.json');
    const res = await runCli(['run', join(ROOT, 'examples/python/mixed.yaml'), '--agents', join(ROOT, 'examples/python/agents'), '--runs-dir', join(dir, 'runs'), '--report', reportFile], { timeoutMs: 120_000 });
    expect(res.exitCode, res.all).toBe(0);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as RunReport;
    const out = (id: string) => report.tasks.find((t) => t.id === id)!.output;
    expect(out('node')).toEqual({ seen: [0, 1, 2].map((n) => ({ from: 'py_chatter', seq: n + 1, n })) });
    expect(out('py')).toEqual({ replies: [0, 1, 2].map((n) => ({ from: 'node_echo', seq: n + 1, payload: { doubled: n * 2 } })) });
    await expectAllGone(runPids(report));
  });
});
