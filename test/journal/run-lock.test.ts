/** The run lock, with real processes: live holder, dead holder, reused pid, reboot, racing takers. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentOSError } from '../../src/errors.js';
import { acquireRunLock, processIdentity, readRunLock, type LockHolder } from '../../src/journal/run-lock.js';
import { ROOT, cleanupTempDirs, expectAllGone, pidAlive, tempDir } from '../helpers.js';

const LOCKER = join(ROOT, 'test/journal/fixtures/locker.mjs');
const HAS_PROC = existsSync('/proc/self/stat');
const children: ChildProcess[] = [];

afterEach(async () => {
  const pids = children.splice(0).flatMap((c) => (c.pid && pidAlive(c.pid) ? [c.pid] : []));
  for (const p of pids) process.kill(p, 'SIGKILL');
  await expectAllGone(pids);
  cleanupTempDirs();
});

interface Locker {
  child: ChildProcess;
  pid: number;
  /** Resolves with the next line the locker prints. */
  next(): Promise<string>;
  send(line: string): void;
  exited: Promise<void>;
}

async function startLocker(runDir: string): Promise<Locker> {
  const child = spawn(process.execPath, [LOCKER, runDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const locker: Locker = {
    child,
    pid: child.pid!,
    next: () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiting.push(resolve))),
    send: (l) => child.stdin!.write(`${l}\n`),
    exited,
  };
  expect(await locker.next()).toBe('ready');
  return locker;
}

async function lockedBy(runDir: string): Promise<Locker> {
  const l = await startLocker(runDir);
  l.send('go');
  expect(await l.next()).toMatch(/^locked \d+$/);
  return l;
}

async function killHard(l: Locker): Promise<void> {
  l.child.kill('SIGKILL');
  await l.exited;
  await expectAllGone([l.pid]);
}

function lockCode(runDir: string): string | undefined {
  try {
    acquireRunLock(runDir).release();
  } catch (err) {
    return err instanceof AgentOSError ? err.code : String(err);
  }
  return undefined;
}

function writeLock(runDir: string, gen: number, h: Partial<LockHolder> & { pid: number }): void {
  const holder: LockHolder = { start_ticks: null, boot_id: null, host: hostname(), acquired_at: Date.now(), token: 'forged', ...h };
  writeFileSync(join(runDir, `run.lock.${gen}`), JSON.stringify(holder));
}

describe('run lock', () => {
  it('a live holder is refused; once it is SIGKILLed its lock is taken over', async () => {
    const dir = tempDir('lock-');
    const holder = await lockedBy(dir);
    expect(lockCode(dir)).toBe('E_RUN_LOCKED');
    expect(readRunLock(dir)).toMatchObject({ generation: 1, alive: true, holder: { pid: holder.pid } });
    await killHard(holder);
    expect(readRunLock(dir)).toMatchObject({ generation: 1, alive: false });
    const lock = acquireRunLock(dir);
    expect(lock.generation).toBe(2);
    expect(readdirSync(dir).filter((n) => n.startsWith('run.lock'))).toEqual(['run.lock.2']);
    lock.release();
    expect(readdirSync(dir).filter((n) => n.startsWith('run.lock'))).toEqual([]);
    expect(readRunLock(dir)).toBeNull();
  });

  it('release by a live holder lets the next one in', async () => {
    const dir = tempDir('lock-');
    const holder = await lockedBy(dir);
    holder.send('release');
    await holder.exited;
    acquireRunLock(dir).release();
  });

  it.skipIf(!HAS_PROC)('a live pid with another start time (a reused pid) or another boot id is taken over', async () => {
    const dir = tempDir('lock-');
    // A real, live process whose pid the forged lock names.
    const other = await startLocker(dir);
    const real = processIdentity(other.pid);
    expect(real.start_ticks).not.toBeNull();
    writeLock(dir, 1, { pid: other.pid, ...real });
    expect(lockCode(dir)).toBe('E_RUN_LOCKED'); // control: the true identity is a live holder

    writeLock(dir, 2, { pid: other.pid, start_ticks: String(Number(real.start_ticks) + 1), boot_id: real.boot_id });
    const taken = acquireRunLock(dir);
    expect(taken.generation).toBe(3);
    taken.release();

    writeLock(dir, 4, { pid: other.pid, start_ticks: real.start_ticks, boot_id: '00000000-0000-0000-0000-000000000000' });
    const afterReboot = acquireRunLock(dir);
    expect(afterReboot.generation).toBe(5);
    afterReboot.release();
    expect(pidAlive(other.pid)).toBe(true);
  });

  it('an unreadable lock file is stale and taken over', () => {
    const dir = tempDir('lock-');
    writeFileSync(join(dir, 'run.lock.7'), '');
    const lock = acquireRunLock(dir);
    expect(lock.generation).toBe(8);
    lock.release();
  });

  it('concurrent takers: exactly one wins, on a free directory and on a stale lock', async () => {
    const dir = tempDir('lock-');
    for (let round = 0; round < 4; round++) {
      if (round % 2 === 1) {
        // Leave a stale lock behind: a holder that died without releasing.
        await killHard(await lockedBy(dir));
      }
      const takers = await Promise.all(Array.from({ length: 4 }, () => startLocker(dir)));
      for (const t of takers) t.send('go');
      const results = await Promise.all(takers.map((t) => t.next()));
      const winners = results.filter((r) => r.startsWith('locked'));
      expect(winners, `round ${round}: ${results.join(', ')}`).toHaveLength(1);
      expect(results.filter((r) => r === 'refused E_RUN_LOCKED')).toHaveLength(3);
      const winner = takers[results.findIndex((r) => r.startsWith('locked'))]!;
      expect(readRunLock(dir)).toMatchObject({ alive: true, holder: { pid: winner.pid } });
      winner.send('release');
      await Promise.all(takers.filter((t) => t !== winner).map((t) => killHard(t)));
      await winner.exited;
      await expectAllGone(takers.map((t) => t.pid));
      expect(readRunLock(dir)).toBeNull();
    }
  });
});
