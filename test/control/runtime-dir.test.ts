/**
 * `agentos ps` / `top` read the runtime directory only when it is ours and mode 0700: another user who
 * pre-creates the predictable default (<tmpdir>/agentos-<uid>) must not hide our kernels or show forged ones.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRuntimeDir } from '../../src/control/runtime-dir.js';
import { cleanupTempDirs, expectAllGone, runCli, tempDir } from '../helpers.js';
import { killHard, listenOn } from './listener.js';

afterAll(() => cleanupTempDirs());

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

async function ps(dir: string, cmd: string[] = ['ps']): Promise<{ exitCode: number | undefined; all: string }> {
  const prev = process.env.AGENTOS_RUNTIME_DIR;
  process.env.AGENTOS_RUNTIME_DIR = dir;
  try {
    const r = await runCli(cmd);
    return { exitCode: r.exitCode, all: r.all ?? '' };
  } finally {
    if (prev === undefined) delete process.env.AGENTOS_RUNTIME_DIR;
    else process.env.AGENTOS_RUNTIME_DIR = prev;
  }
}

describe('ps and top check the runtime directory', () => {
  it.skipIf(!isRoot)("refuse a directory another uid owns, with a forged kernel in it (uid 65534's, chowned by root)", async () => {
    const dir = join(tempDir('agentos-rtp-'), 'agentos-rt');
    mkdirSync(dir, { mode: 0o700 });
    const fake = await listenOn(join(dir, '1-FORGED.sock'));
    try {
      chownSync(dir, NOBODY, NOBODY); // as if uid 65534 had planted it
      for (const cmd of [['ps'], ['ps', '--json'], ['top', '--iterations', '1']]) {
        const r = await ps(dir, cmd);
        expect(r.exitCode, cmd.join(' ')).toBe(2);
        expect(r.all).toContain(`runtime directory ${dir} belongs to uid ${NOBODY}, not to you (uid 0)`);
        expect(r.all).toContain('AGENTOS_RUNTIME_DIR');
        expect(r.all).not.toContain('FORGED');
      }
      expect(() => checkRuntimeDir(dir)).toThrow(expect.objectContaining({ code: 'E_RUNTIME_DIR' }));
    } finally {
      await killHard(fake);
      await expectAllGone([fake.pid]);
    }
  });

  it('refuses a directory of ours that others can write (mode 0777), and a symlink', async () => {
    const parent = tempDir('agentos-rtp-');
    const dir = join(parent, 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const r = await ps(dir);
    expect(r.exitCode).toBe(2);
    expect(r.all).toContain(`runtime directory ${dir} has mode 0777, not 0700`);
    expect(r.all).toContain(`fix: chmod 700 ${dir}`);
    chmodSync(dir, 0o700);
    const link = join(parent, 'link');
    symlinkSync(dir, link);
    const l = await ps(link);
    expect(l.exitCode).toBe(2);
    expect(l.all).toContain('is a symbolic link');
    // ours and 0700: fine
    const ok = await ps(dir);
    expect(ok.exitCode).toBe(0);
    expect(ok.all).toContain('no running agentos kernel found');
  });

  it('an absent directory means no kernel, and ps does not create it', async () => {
    const dir = join(tempDir('agentos-rtp-'), 'absent');
    const r = await ps(dir);
    expect(r.exitCode).toBe(0);
    expect(r.all).toContain('no running agentos kernel found');
    expect(existsSync(dir)).toBe(false);
  });
});
