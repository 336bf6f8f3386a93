import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/observe/report.js';
import type { ControlReply } from '../../src/control/protocol.js';
import { cleanupTempDirs, expectAllGone, CRASH_DEMO_AGENTS, FIXTURE_AGENTS, readJson, runCli, runPids, tempDir } from '../helpers.js';
import { gatedDemoPlan, parseProm, startWatched, sum } from './live.js';
import { checkNesting, traceFileSchema } from './trace-schema.js';

// Every kernel these tests start puts its control socket here, not in the user's runtime directory.
let runtime: string;
beforeAll(() => {
  runtime = tempDir('agentos-rt-');
  process.env.AGENTOS_RUNTIME_DIR = runtime;
});
afterAll(() => {
  delete process.env.AGENTOS_RUNTIME_DIR;
  cleanupTempDirs();
});

async function psJson(): Promise<Array<Extract<ControlReply, { ok: true }>>> {
  const res = await runCli(['ps', '--json']);
  expect(res.exitCode, res.all).toBe(0);
  return JSON.parse(res.stdout) as Array<Extract<ControlReply, { ok: true }>>;
}

describe('watching a live run from outside: agentos ps / top, --metrics, trace.json', { timeout: 120_000 }, () => {
  it('lists the live processes, serves metrics mid-run, writes a valid trace, and cleans up', async () => {
    const { dir, plan, gate } = gatedDemoPlan();
    const runsDir = join(dir, 'runs');
    const cli = startWatched(['run', plan, '--agents', CRASH_DEMO_AGENTS, '--agents', FIXTURE_AGENTS, '--inject', 'patch_agent:crash@1', '--runs-dir', runsDir, '--metrics', '0']);
    const metricsUrl = (await cli.waitLine(/^metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)$/))[1]!;

    // --- agentos ps while the run waits at the gate ---
    let kernels: Awaited<ReturnType<typeof psJson>> = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      kernels = await psJson();
      if (kernels.some((k) => k.processes.some((p) => p.agent === 'gate_agent' && p.state === 'busy'))) break;
    }
    const mine = kernels.find((k) => k.kernel.kernel_pid === cli.proc.pid);
    expect(mine, JSON.stringify(kernels)).toBeDefined();
    expect(mine!.kernel.status).toBe('running');
    expect(mine!.kernel.plan).toBe('gated-demo');
    const gateProc = mine!.processes.find((p) => p.agent === 'gate_agent')!;
    expect(gateProc).toMatchObject({ state: 'busy', task: 'gate' });
    // the socket: one per kernel, mode 0600, in a 0700 directory
    const sockets = readdirSync(runtime).filter((n) => n.endsWith('.sock'));
    expect(sockets).toEqual([`${cli.proc.pid}-${mine!.kernel.run_id}.sock`]);
    expect(statSync(join(runtime, sockets[0]!)).mode & 0o777).toBe(0o600);
    expect(statSync(runtime).mode & 0o777).toBe(0o700);
    // every listed process is real, and `ps` shows the same names through the process titles
    const titles = await execa('ps', ['-o', 'pid=,args=', '-p', mine!.processes.map((p) => p.pid).join(',')]);
    const kernelTitle = await execa('ps', ['-o', 'args=', '-p', String(cli.proc.pid)]);
    expect(kernelTitle.stdout.trim()).toBe(`agentos-kernel run=${mine!.kernel.run_id}`);
    for (const p of mine!.processes) expect(titles.stdout).toMatch(new RegExp(`^\\s*${p.pid} agentos-agent ${p.agent}#${p.instance} run=${mine!.kernel.run_id}`, 'm'));
    const text = await runCli(['ps']);
    expect(text.stdout).toMatch(new RegExp(`${mine!.kernel.run_id}\\s+${gateProc.pid}\\s+gate_agent#1\\s+busy\\s+gate`));
    const top = await runCli(['top', '--iterations', '2', '--interval', '100']);
    expect(top.exitCode).toBe(0);
    expect(top.stdout.split('agentos top').length - 1).toBe(2);
    expect(top.stdout).toContain('gate_agent#1');

    // --- /metrics mid-run ---
    let prom = parseProm(await (await fetch(metricsUrl)).text());
    for (let i = 0; i < 100 && !prom.samples.some((s) => s.name === 'agentos_process_rss_bytes' && s.labels.agent === 'gate_agent' && s.value > 0); i++) {
      await new Promise((r) => setTimeout(r, 50)); // poll for the sampler's first tick, bounded
      prom = parseProm(await (await fetch(metricsUrl)).text());
    }
    expect(sum(prom.samples, 'agentos_process_rss_bytes', { agent: 'gate_agent' })).toBeGreaterThan(10 * 1024 * 1024);
    expect(sum(prom.samples, 'agentos_tasks', { state: 'running' })).toBe(1);
    expect(sum(prom.samples, 'agentos_tasks', { state: 'succeeded' })).toBe(2);
    expect(sum(prom.samples, 'agentos_tasks', { state: 'pending' })).toBe(3);
    expect(prom.types.get('agentos_ipc_request_seconds')).toBe('histogram');
    expect(prom.types.get('agentos_faults_total')).toBe('counter');
    expect(sum(prom.samples, 'agentos_ipc_request_seconds_count')).toBe(2);
    expect(sum(prom.samples, 'agentos_mailbox_depth', { agent: 'gate_agent' })).toBeGreaterThanOrEqual(0);
    expect(prom.samples.find((s) => s.name === 'agentos_tokens' && s.labels.agent === 'planner')?.value).toBe(400);

    // --- let it finish ---
    writeFileSync(gate, 'open');
    const res = await cli.proc;
    expect(res.exitCode, res.all).toBe(0);
    expect(readdirSync(runtime).filter((n) => n.endsWith('.sock'))).toEqual([]); // removed on exit
    const runDir = join(runsDir, mine!.kernel.run_id);
    const report = readJson<RunReport>(join(runDir, 'report.json'));
    expect(report.status).toBe('succeeded');
    await expectAllGone(runPids(report));

    // --- trace.json ---
    const trace = traceFileSchema.parse(readJson(join(runDir, 'trace.json')));
    expect(checkNesting(trace)).toEqual([]);
    const ev = trace.traceEvents;
    const names = new Map(ev.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => [e.pid, String(e.args.name)]));
    expect(names.get(cli.proc.pid!)).toBe('agentos-kernel');
    // one track per agent process that served an attempt, named after it
    for (const p of report.processes.filter((p) => p.served > 0)) expect(names.get(p.pid)).toBe(`${p.agent}#${p.instance} (pid ${p.pid})`);
    const slices = ev.filter((e) => e.ph === 'X' && e.cat === 'attempt');
    expect(slices.length).toBe(report.metrics.attempts);
    const patch = slices.filter((s) => s.name === 'patch');
    expect(patch.map((s) => [s.args?.attempt, s.args?.outcome, s.args?.kind])).toEqual([[1, 'failed', 'crash'], [2, 'succeeded', undefined]]);
    expect(patch[0]!.pid).not.toBe(patch[1]!.pid); // the crashed process and its replacement
    expect(ev.some((e) => e.ph === 'i' && e.name === 'inject: crash' && e.pid === patch[0]!.pid)).toBe(true);
    expect(ev.some((e) => e.ph === 'i' && e.name === 'retry patch')).toBe(true);
    expect(ev.some((e) => e.ph === 'i' && e.name === 'restart patch_agent#1')).toBe(true);
    const rss = ev.filter((e) => e.ph === 'C' && e.name === 'rss_mb');
    expect(rss.length).toBeGreaterThan(0);
    // a sample taken as a process exits may read 0; every counter is on a named agent track, most are real
    expect(rss.every((c) => names.has(c.pid) && (c.args as Record<string, number>).rss_mb! >= 0)).toBe(true);
    expect(rss.filter((c) => (c.args as Record<string, number>).rss_mb! > 10).length).toBeGreaterThan(rss.length / 2);
    const run = ev.find((e) => e.ph === 'X' && e.cat === 'run')!;
    for (const s of slices) expect(s.ts + (s.ph === 'X' ? s.dur : 0)).toBeLessThanOrEqual(run.ts + (run.ph === 'X' ? run.dur : 0));
  });

  it('Ctrl-C mid-run with the dashboard: interrupted report and trace, exit 130, socket and processes gone', async () => {
    const { dir, plan } = gatedDemoPlan();
    const runsDir = join(dir, 'runs');
    const cli = startWatched(['run', plan, '--agents', CRASH_DEMO_AGENTS, '--agents', FIXTURE_AGENTS, '--runs-dir', runsDir, '--dashboard', '0']);
    const url = (await cli.waitLine(/^dashboard: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/))[1]!; // a token on loopback too
    const gateRunning = async (): Promise<boolean> => {
      const state = (await (await fetch(new URL(`/api/state${new URL(url).search}`, url))).json()) as { tasks: Array<{ id: string; state: string }> } | null;
      return state?.tasks.some((t) => t.id === 'gate' && t.state === 'running') ?? false;
    };
    for (let i = 0; i < 400 && !(await gateRunning()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await gateRunning()).toBe(true);
    cli.proc.kill('SIGINT');
    const res = await cli.proc;
    expect(res.exitCode, res.all).toBe(130);
    const runDir = join(runsDir, readdirSync(runsDir)[0]!);
    const report = readJson<RunReport>(join(runDir, 'report.json'));
    expect(report.status).toBe('interrupted');
    const trace = traceFileSchema.parse(readJson(join(runDir, 'trace.json')));
    expect(trace.traceEvents.some((e) => e.ph === 'X' && e.name === 'gate' && e.args?.outcome !== 'succeeded')).toBe(true);
    expect(trace.traceEvents.some((e) => e.ph === 'i' && e.name === 'interrupted (SIGINT)')).toBe(true);
    expect(readdirSync(runtime).filter((n) => n.endsWith('.sock'))).toEqual([]);
    await expectAllGone(runPids(report));
  });

  it('rejects bad flags with exit 2 and a message naming the flag', async () => {
    const { plan } = gatedDemoPlan();
    const cases: Array<[string[], RegExp]> = [
      [['run', plan, '--dashboard=99999'], /--dashboard '99999'/],
      [['run', plan, '--metrics=x1'], /--metrics 'x1'/],
      [['run', plan, '--host', '10.0.0.1'], /--host only applies to --dashboard/],
      [['run', plan, '--dashboard', '--host', 'bad host!'], /--host 'bad host!'/],
      [['top', '--interval', '5'], /--interval '5'/],
      [['ps', '--bogus'], /bogus/],
      [['dashboard', '--run', join(tempDir(), 'nope')], /--run .*no such run directory/],
      [['dashboard', '--run', tempDir()], /no events\.jsonl/],
      [['dashboard', '--port', '70000'], /--port '70000'/],
    ];
    // a port that is taken
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const taken = (busy.address() as AddressInfo).port;
    cases.push([['run', plan, '--agents', CRASH_DEMO_AGENTS, '--agents', FIXTURE_AGENTS, '--dashboard', String(taken)], /cannot listen: the port is in use/]);
    cases.push([['run', plan, '--agents', CRASH_DEMO_AGENTS, '--agents', FIXTURE_AGENTS, '--metrics', String(taken)], /cannot listen: the port is in use/]);
    // three at a time: each is a node start-up, and the machine has two cores
    const results: Awaited<ReturnType<typeof runCli>>[] = [];
    for (let i = 0; i < cases.length; i += 3) results.push(...(await Promise.all(cases.slice(i, i + 3).map(([args]) => runCli(args)))));
    busy.close();
    for (const [i, [args, re]] of cases.entries()) {
      const res = results[i]!;
      expect(res.exitCode, `${args.join(' ')}: ${res.all}`).toBe(2);
      expect(res.stderr).toMatch(re);
    }
    expect(existsSync(join(runtime, 'x'))).toBe(false);
  }, 180_000);
});
