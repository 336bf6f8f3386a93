/**
 * Pid reuse: nothing in AgentOS signals a pid or a process group it has not verified is still the process
 * it started (src/protocol/pid-identity.ts). Built by construction with real processes: a group the
 * reaper or a Terminator knows as (N, start S) whose leader exited, N now held by a process of ours
 * outside any run (a "bystander", leader of its own group, started later: another start time). The
 * bystander must outlive the reaper's kernel (orderly end and SIGKILL) and every Terminator call, while a
 * tracked group whose leader is still the process we started dies as before.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pidStart } from '../../src/protocol/pid-identity.js';
import { Terminator } from '../../src/process/terminate.js';
import { ROOT, waitFor } from '../helpers.js';

const started: ChildProcess[] = [];
afterEach(async () => {
  for (const c of started.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const gone = once(c, 'exit');
    c.kill('SIGKILL');
    await gone;
  }
});

/** A detached sleeper (its own group leader), with its identity; `exit` resolves to true when it dies. */
async function sleeper(): Promise<{ pid: number; start: string; exit: Promise<boolean>; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { detached: true, stdio: 'ignore' });
  started.push(child);
  const pid = child.pid!;
  const start = pidStart(pid);
  expect(start).not.toBeNull();
  return { pid, start: start!, exit: once(child, 'exit').then(() => true), child };
}

/** The identity of the number's previous owner: same pid, an earlier start. */
const earlier = (start: string): string => String(BigInt(start) - 1n);

/** Resolves true if `exit` happens within `ms` (a negative check needs a bound), else false. */
const diesWithin = (exit: Promise<boolean>, ms: number): Promise<boolean> => Promise.race([exit, new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

function startKernel(groups: [number, string][], mode: 'close' | 'wait'): { kernel: ChildProcess; reaper: Promise<number> } {
  const kernel = spawn(process.execPath, [join(ROOT, 'test/fixtures/reaper-kernel.mjs'), JSON.stringify(groups), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(kernel);
  const reaper = new Promise<number>((resolve, reject) => {
    let out = '';
    kernel.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve((JSON.parse(line!) as { reaper: number }).reaper);
    });
    kernel.once('exit', () => reject(new Error(`reaper kernel exited before it was ready: ${out}`)));
  });
  return { kernel, reaper };
}

const gone = (pid: number): boolean => pidStart(pid) === null;

describe('the reaper never signals a reused pgid', () => {
  for (const mode of ['close', 'wait'] as const) {
    it(`${mode === 'close' ? 'orderly end' : 'SIGKILLed kernel'}: the tracked agent dies, the bystander holding a stale pgid lives`, async () => {
      const agent = await sleeper();
      const bystander = await sleeper();
      const { kernel, reaper } = startKernel(
        [
          [bystander.pid, earlier(bystander.start)],
          [agent.pid, agent.start],
        ],
        mode,
      );
      const reaperPid = await reaper;
      if (mode === 'wait') kernel.kill('SIGKILL');
      await once(kernel, 'exit');
      // The reaper has sent every kill it will send once it is gone.
      await waitFor(() => gone(reaperPid), 15_000, 'reaper exited');
      expect(await agent.exit).toBe(true);
      expect(await diesWithin(bystander.exit, 1000)).toBe(false);
      expect(pidStart(bystander.pid)).toBe(bystander.start);
    });
  }
});

describe('the Terminator never signals a reused pid', () => {
  it('terminate (SIGTERM, SIGKILL) and exited() leave the process now holding the number alone', async () => {
    const bystander = await sleeper();
    const control = await sleeper();
    const stale = new Terminator(bystander.pid, earlier(bystander.start), 0);
    stale.terminate('timeout');
    stale.exited();
    const staleGrace = new Terminator(bystander.pid, earlier(bystander.start), 20);
    staleGrace.terminate('timeout');
    // The same calls on a process that is still ours do kill it (grace 20 ms: SIGTERM, then the timer).
    const real = new Terminator(control.pid, control.start, 20);
    real.terminate('timeout');
    expect(await control.exit).toBe(true);
    expect(await diesWithin(bystander.exit, 1000)).toBe(false);
    expect(pidStart(bystander.pid)).toBe(bystander.start);
  });
});
