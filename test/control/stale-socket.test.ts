/**
 * A kernel killed with SIGKILL leaves its control socket behind. The next `agentos ps` or run removes it:
 * stale means nobody listens (connect refused), whatever process now has the pid in its name. A live
 * kernel's socket, and a stopped (SIGSTOP) kernel's, stay.
 */
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, runFixturePlan, runCli, tempDir } from '../helpers.js';
import { killHard, listenOn, type Listener } from './listener.js';

let rt = '';
beforeAll(() => {
  rt = join(tempDir('agentos-stale-'), 'rt');
  mkdirSync(rt, { mode: 0o700 });
  process.env.AGENTOS_RUNTIME_DIR = rt;
});
afterAll(() => {
  delete process.env.AGENTOS_RUNTIME_DIR;
  cleanupTempDirs();
});

/** Sockets left by SIGKILLed listeners: one named after the dead pid, one after a live pid (pid reuse). */
async function leaveStale(tag: string): Promise<string[]> {
  const deadPidPath = join(rt, `pending-${tag}.sock`);
  const dead = await listenOn(deadPidPath);
  const reusedPidPath = join(rt, `${process.pid}-${tag}REUSED.sock`); // our pid is alive: "reused"
  const reused = await listenOn(reusedPidPath);
  await killHard(dead);
  await killHard(reused);
  // name the first after its own (now dead) pid, as a kernel names its socket
  const named = join(rt, `${dead.pid}-${tag}DEAD.sock`);
  renameSync(deadPidPath, named);
  expect(existsSync(named) && existsSync(reusedPidPath)).toBe(true);
  return [named, reusedPidPath];
}

describe('stale control sockets', () => {
  it('agentos ps removes the sockets of dead kernels, and keeps those of live and stopped ones', async () => {
    const stale = await leaveStale('PS');
    const live = await listenOn(join(rt, `${process.pid}-LIVE.sock`));
    const stopped: Listener = await listenOn(join(rt, `${process.pid}-STOPPED.sock`));
    process.kill(stopped.pid, 'SIGSTOP');
    try {
      const r = await runCli(['ps']);
      expect(r.exitCode, r.all).toBe(0);
      for (const s of stale) expect(existsSync(s), s).toBe(false);
      expect(readdirSync(rt).sort()).toEqual([`${process.pid}-LIVE.sock`, `${process.pid}-STOPPED.sock`]);
      expect(r.all).toContain('FORGED'); // the live stand-in answered
    } finally {
      process.kill(stopped.pid, 'SIGCONT');
      await killHard(live);
      await killHard(stopped);
      await expectAllGone([live.pid, stopped.pid]);
    }
  });

  it('the next run removes them too', async () => {
    const stale = await leaveStale('RUN');
    const { res, report } = await runFixturePlan([{ id: 'a', agent: 'ok_agent' }]);
    expect(res.exitCode, res.all).toBe(0);
    expect(report!.status).toBe('succeeded');
    for (const s of stale) expect(existsSync(s), s).toBe(false);
  });
});
