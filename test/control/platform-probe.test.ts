/**
 * src/platform: the cgroup parsers on other machines' layouts (pure v2 delegated by systemd, a container
 * with a mounted subtree, hybrid like this one), what the probe says about this machine checked by using
 * it (a detected cgroup.kill really ends a process; a detected v1 memory controller really takes a limit),
 * the tool lookup order, and `agentos doctor` (text and --json, exit 0).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { ownDir, parseMountinfo, parseProcCgroup, probeCgroups } from '../../src/platform/cgroup-probe.js';
import { findTool, isShim } from '../../src/platform/tools.js';
import { required } from '../optional.js';
import { cleanupTempDirs, expectAllGone, runCli, tempDir, waitFor } from '../helpers.js';

afterAll(() => cleanupTempDirs());

const PURE_V2 = `25 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
30 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw`;
const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const CONTAINER = `700 690 0:30 /docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw`;

describe('cgroup layout parsing', () => {
  it('pure v2 delegated to a user by systemd', () => {
    const [m] = parseMountinfo(PURE_V2);
    expect(m).toEqual({ version: 2, root: '/', mountPoint: '/sys/fs/cgroup', controllers: [] });
    const own = parseProcCgroup('0::/user.slice/user-1000.slice/user@1000.service/app.slice/agentos.scope\n');
    expect(own.v2).toBe('/user.slice/user-1000.slice/user@1000.service/app.slice/agentos.scope');
    expect(ownDir(m!, own.v2!)).toBe('/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/agentos.scope');
  });

  it('hybrid: v2 at /sys/fs/cgroup/unified beside v1 controllers', () => {
    const ms = parseMountinfo(HYBRID);
    expect(ms.map((m) => [m.version, m.mountPoint, m.controllers.join(',')])).toEqual([
      [1, '/sys/fs/cgroup/memory', 'memory'],
      [1, '/sys/fs/cgroup/pids', 'pids'],
      [1, '/sys/fs/cgroup/cpu,cpuacct', 'cpu,cpuacct'],
      [1, '/sys/fs/cgroup/systemd', ''],
      [2, '/sys/fs/cgroup/unified', ''],
    ]);
    const own = parseProcCgroup('9:name=systemd:/\n8:pids:/\n4:memory:/process_api/19fa\n2:cpu,cpuacct:/\n0::/\n');
    expect(own.v2).toBe('/');
    expect(own.v1.get('memory')).toBe('/process_api/19fa');
    expect(own.v1.get('cpuacct')).toBe('/');
  });

  it('a container that mounts its own subtree', () => {
    const [m] = parseMountinfo(CONTAINER);
    expect(ownDir(m!, '/docker/abc/agents')).toBe('/sys/fs/cgroup/agents');
    expect(ownDir(m!, '/')).toBe('/sys/fs/cgroup/');
  });

  it('no cgroups at all (macOS: no /proc): nothing available, nothing thrown', () => {
    const c = probeCgroups({ mountinfo: '', procCgroup: '' });
    expect(c.available).toBe(false);
    expect(c.use).toEqual({ kill: 'none', memory: 'none', pids: 'none' });
  });
});

describe('this machine, as the probe sees it', () => {
  const c = probeCgroups();
  it('a detected cgroup.kill ends a real process tree', { skip: c.use.kill !== 'cgroup.kill' }, async () => {
    const cg = join(c.v2!.own.dir, `agentos-test-${process.pid}`);
    mkdirSync(cg);
    const child = execa('sleep', ['60'], { reject: false });
    try {
      writeFileSync(join(cg, 'cgroup.procs'), String(child.pid));
      writeFileSync(join(cg, 'cgroup.kill'), '1');
      expect((await child).signal).toBe('SIGKILL');
      await waitFor(() => readFileSync(join(cg, 'cgroup.procs'), 'utf8').trim() === '', 5000, 'the cgroup to empty');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmdirSync(cg);
    }
    await expectAllGone([child.pid!]);
  });

  it('a detected v1 memory controller takes a limit', { skip: c.use.memory !== 'v1' }, () => {
    const cg = join(c.v1Memory!.own.dir, `agentos-test-${process.pid}`);
    mkdirSync(cg);
    try {
      writeFileSync(join(cg, 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
      expect(Number(readFileSync(join(cg, 'memory.limit_in_bytes'), 'utf8'))).toBe(64 * 1024 * 1024);
    } finally {
      rmdirSync(cg);
    }
  });

  it('leaves no probe cgroup behind', () => {
    for (const d of [c.v2?.own.dir, c.v1Memory?.own.dir, c.v1Pids?.own.dir]) if (d) expect(existsSync(join(d, `agentos-probe-${process.pid}`))).toBe(false);
  });
});

describe('optional programs', () => {
  it('an explicit variable wins alone; a wrong one is reported, not replaced', () => {
    const bin = tempDir();
    const fake = join(bin, 'chromium');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
    const spec = { name: 'chromium', env: 'X_CHROME', candidates: ['/nonexistent/chromium', 'chromium'] };
    expect(findTool(spec, { PATH: bin })).toMatchObject({ path: fake, via: 'PATH' });
    expect(findTool(spec, { PATH: bin, X_CHROME: fake })).toMatchObject({ path: fake, via: 'env' });
    const wrong = findTool(spec, { PATH: bin, X_CHROME: '/nonexistent' });
    expect(wrong.path).toBeUndefined();
    expect(wrong.tried).toEqual(['X_CHROME=/nonexistent (not an executable file)']);
    expect(findTool(spec, { PATH: '' }).tried).toEqual(['X_CHROME (unset)', '/nonexistent/chromium', 'chromium on PATH']);
  });

  it('a pyenv shim is recognised', () => {
    const shims = join(tempDir(), 'shims');
    mkdirSync(shims);
    writeFileSync(join(shims, 'python3'), '#!/usr/bin/env bash\nexec "/root/.pyenv/libexec/pyenv" exec "$program" "$@"\n');
    expect(isShim(join(shims, 'python3'))).toBe(true);
    expect(isShim(process.execPath)).toBe(false);
  });

  it('AGENTOS_REQUIRE_OPTIONAL: 1/all, or a list of names', () => {
    expect(required('chromium', {})).toBe(false);
    expect(required('chromium', { AGENTOS_REQUIRE_OPTIONAL: '1' })).toBe(true);
    expect(required('python3', { AGENTOS_REQUIRE_OPTIONAL: 'chromium,redis-server' })).toBe(false);
    expect(required('redis-server', { AGENTOS_REQUIRE_OPTIONAL: 'chromium,redis-server' })).toBe(true);
  });
});

describe('agentos doctor', () => {
  it('prints each check with its fix, exit 0; --json gives the same probe', async () => {
    const text = await runCli(['doctor']);
    expect(text.exitCode, text.all).toBe(0);
    for (const id of ['node', 'proc', 'cgroup.kill', 'cgroup.memory', 'cgroup.pids', 'permission', 'tool.chromium', 'tool.redis-server', 'tool.python3']) expect(text.stdout).toMatch(new RegExp(`\\] ${id.replace('.', '\\.')}\\s`));
    expect(text.stdout).toContain(`Node ${process.version}`);
    const json = await runCli(['doctor', '--json']);
    expect(json.exitCode).toBe(0);
    const report = JSON.parse(json.stdout) as { node: string; checks: Array<{ id: string; status: string; fix?: string }>; cgroups: { use: unknown } };
    expect(report.node).toBe(process.version);
    expect(report.cgroups.use).toEqual(probeCgroups().use); // the CLI sees what the library sees
    for (const ch of report.checks) if (ch.status === 'missing' || ch.status === 'warn') expect(ch.fix, ch.id).toBeTruthy();
    // a missing browser is named with its fix
    const noChrome = await execa('node', [join(import.meta.dirname, '../../dist/src/cli/main.js'), 'doctor'], { env: { AGENTOS_CHROMIUM: '/nonexistent' }, reject: false });
    expect(noChrome.exitCode).toBe(0);
    expect(noChrome.stdout).toMatch(/\[MISS\] tool\.chromium\s+chromium not found \(tried AGENTOS_CHROMIUM=\/nonexistent/);
    expect(noChrome.stdout).toContain('set AGENTOS_CHROMIUM');
    expect((await runCli(['doctor', '--bogus'])).exitCode).toBe(2);
  });
});
