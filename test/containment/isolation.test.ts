/**
 * isolation: pid (agent.yaml; src/platform/isolation.ts): a hostile agent in its own PID namespace cannot
 * signal its kernel or the reaper — its parent is the namespace's init, the real pids do not exist in its
 * namespace — and the run completes; the kernel still knows the agent's real pid, its crash reason and
 * ends it. Where PID namespaces are unavailable the run is refused (exit 2) with the reason.
 */
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/observe/report.js';
import { pidIsolation } from '../../src/platform/isolation.js';
import { CLI, cleanupTempDirs, expectAllGone, FIXTURE_AGENTS, readJson, runCli, runPids, tempDir, waitFor, writePlan } from '../helpers.js';

afterAll(cleanupTempDirs);

const support = pidIsolation();
if (!support.ok) console.log(`[isolation] PID namespaces unavailable here (${support.detail}): isolation tests skipped`);

/** Children of `pid` (main thread's list is enough for the kernel: the reaper is its child). */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
}
const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
};

describe.skipIf(!support.ok)('isolation: pid', () => {
  it('a hostile agent cannot stop or kill its kernel or the reaper; the run completes', async () => {
    const pidFile = join(tempDir(), 'pids');
    const { dir, plan } = writePlan([{ id: 'hostile', agent: 'isolated_hostile', input: { pid_file: pidFile } }]);
    const reportFile = join(dir, 'report.json');
    const kernel = spawn(process.execPath, [CLI, 'run', plan, '--agents', FIXTURE_AGENTS, '--runs-dir', join(dir, 'runs'), '--report', reportFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    kernel.stdout.on('data', (c: Buffer) => (out += c.toString()));
    kernel.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => kernel.once('exit', (c) => resolve(c)));
    // The reaper is the kernel's child running worker/reaper.js; hand both real pids to the agent.
    let reaper: number | undefined;
    await waitFor(() => (reaper = childrenOf(kernel.pid!).find((c) => cmdline(c).includes('reaper'))) !== undefined, 20_000, 'the reaper');
    writeFileSync(pidFile, `${kernel.pid} ${reaper}\n`);
    expect(await exited, out).toBe(0);
    const report = readJson<RunReport>(reportFile);
    const o = report.tasks[0]!.output as { pid: number; ppid: number; tries: Array<{ what: string; pid: number; sig: string; ok: boolean; code?: string }> };
    // Its parent is the namespace's init, not the kernel; the kernel's and reaper's pids do not exist there.
    expect(o.ppid).toBe(1);
    const given = o.tries.filter((t) => t.what === 'given');
    expect(given).toHaveLength(4);
    for (const t of given) expect(t, JSON.stringify(t)).toMatchObject({ ok: false, code: 'ESRCH' });
    // The kernel knows the agent by its real (host) pid, not by the namespace's.
    const proc = report.processes.find((p) => p.agent === 'isolated_hostile')!;
    expect(proc.pid).not.toBe(o.pid);
    expect(proc.pid).toBeGreaterThan(2);
    await expectAllGone([kernel.pid!, ...runPids(report)]);
  }, 60_000);

  it('a crash inside the namespace is still a crash by SIGABRT', async () => {
    const { dir, plan } = writePlan([{ id: 'boom', agent: 'isolated_hostile', input: { abort: true } }]);
    const reportFile = join(dir, 'report.json');
    const res = await runCli(['run', plan, '--agents', FIXTURE_AGENTS, '--runs-dir', join(dir, 'runs'), '--report', reportFile]);
    expect(res.exitCode, res.all).toBe(1);
    const report = readJson<RunReport>(reportFile);
    expect(report.tasks[0]!.failures[0]).toMatchObject({ kind: 'crash' });
    expect(report.tasks[0]!.failures[0]!.message).toMatch(/SIGABRT/);
    expect(report.processes.find((p) => p.exit?.reason === 'crash')?.exit?.signal).toBe('SIGABRT');
    await expectAllGone(runPids(report));
  }, 60_000);
});

describe('isolation: pid where the machine cannot give it', () => {
  it('is refused before any process starts, exit 2, saying why and what to do', async () => {
    const { dir, plan } = writePlan([{ id: 'h', agent: 'isolated_hostile', input: {} }]);
    // No unshare on PATH (only node): the probe (in the CLI process) finds PID namespaces unavailable.
    const bin = tempDir();
    symlinkSync(process.execPath, join(bin, 'node'));
    const res = await execa(process.execPath, [CLI, 'run', plan, '--agents', FIXTURE_AGENTS, '--runs-dir', join(dir, 'runs')], { reject: false, all: true, env: { PATH: bin }, extendEnv: false });
    expect(res.exitCode, res.all).toBe(2);
    expect(res.all).toMatch(/agent 'isolated_hostile' asks for isolation: pid, which this machine cannot give: util-linux unshare is not on PATH\. Fix: install util-linux/);
  }, 60_000);
});
