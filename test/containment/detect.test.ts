/**
 * detect(): this machine's real layout, and the pure-v2 layouts of users' machines (systemd-delegated
 * subtree, shared scope, read-only mount) from a fixture tree laid out as cgroupfs is. The fixture tests
 * the parsing and the decisions (which files Containment writes, in which order), not the kernel.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Containment } from '../../src/process/containment/containment.js';
import { detect, parseMountinfo, parseSelfCgroup } from '../../src/process/containment/detect.js';

const tmp = mkdtempSync(join(tmpdir(), 'agentos-detect-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const OWN = '/user.slice/user-1000.slice/user@1000.service/app.slice/agentos.scope';

/** A pure v2 machine: cgroup2 at <root>/cg, our cgroup delegated (files owned by us), `procs` in it. */
function pureV2(name: string, opts: { procs: number[]; ro?: boolean; enabled?: string }): string {
  const root = join(tmp, name);
  const cg = join(root, 'cg');
  mkdirSync(join(root, 'proc/self'), { recursive: true });
  writeFileSync(join(root, 'proc/self/mountinfo'), `22 1 0:21 / / rw - ext4 /dev/vda1 rw\n30 25 0:26 / ${cg} ${opts.ro ? 'ro' : 'rw'},nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`);
  writeFileSync(join(root, 'proc/self/cgroup'), `0::${OWN}\n`);
  for (const [dir, isRoot] of [[cg, true], [join(cg, OWN), false]] as const) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cgroup.controllers'), 'cpu io memory pids\n');
    writeFileSync(join(dir, 'cgroup.subtree_control'), isRoot ? 'cpu io memory pids\n' : (opts.enabled ?? '') + '\n');
    writeFileSync(join(dir, 'cgroup.procs'), isRoot ? '' : opts.procs.map((p) => `${p}\n`).join(''));
    if (!isRoot) for (const f of ['cgroup.type', 'cgroup.kill', 'cgroup.freeze']) writeFileSync(join(dir, f), '');
  }
  return root;
}

describe('detect()', () => {
  it('on this machine: a consistent report', () => {
    const caps = detect();
    console.log(`[containment] this machine: layout ${caps.layout}, plan ${JSON.stringify(caps.plan)}${caps.notes.length ? `, notes: ${caps.notes.join('; ')}` : ''}`);
    expect(['v2', 'hybrid', 'v1', 'none']).toContain(caps.layout);
    if (caps.plan.memory === 'cgroup-v1') expect(caps.v1.memory?.writable).toBe(true);
    if (caps.plan.kill === 'cgroup-v2-kill') expect(caps.v2?.kill).toBe(true);
    expect(caps.proc_children).toBe(true);
  });

  it('parses a hybrid layout (v2 at /sys/fs/cgroup/unified with v1 memory and pids)', () => {
    const mounts = parseMountinfo(
      [
        '25 24 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
        '28 25 0:25 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw',
        '31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory',
        '32 25 0:29 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids',
        '33 25 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
      ].join('\n'),
    );
    expect(mounts.map((m) => [m.fstype, m.point])).toEqual([
      ['cgroup2', '/sys/fs/cgroup/unified'],
      ['cgroup', '/sys/fs/cgroup/memory'],
      ['cgroup', '/sys/fs/cgroup/pids'],
      ['cgroup', '/sys/fs/cgroup/cpu,cpuacct'],
    ]);
    const self = parseSelfCgroup('9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/\n');
    expect(self.v2).toBe('/');
    expect(self.v1.get('memory')).toBe('/process_api/abc');
    expect(self.v1.get('cpuacct')).toBe('/');
  });

  it('pure v2, delegated and alone in its scope: everything by cgroup v2', () => {
    const caps = detect({ proc: join(pureV2('alone', { procs: [4242] }), 'proc'), pid: 4242 });
    expect(caps.layout).toBe('v2');
    expect(caps.v2).toMatchObject({ own_is_root: false, writable: true, kill: true, other_procs: 0, available: ['cpu', 'io', 'memory', 'pids'], enabled: [] });
    expect(caps.plan).toEqual({ mechanism: 'cgroup-v2', kill: 'cgroup-v2-kill', memory: 'cgroup-v2', pids: 'cgroup-v2' });
    expect(caps.notes).toEqual([]);
  });

  it('pure v2 in a scope shared with a shell: kill by cgroup, memory sampled, and a note says why', () => {
    const caps = detect({ proc: join(pureV2('shared', { procs: [4242, 100] }), 'proc'), pid: 4242 });
    expect(caps.plan).toEqual({ mechanism: 'cgroup-v2-kill', kill: 'cgroup-v2-kill', memory: 'rss-sample', pids: 'none' });
    expect(caps.notes.join('\n')).toMatch(/1 other process/);
  });

  it('a read-only cgroup mount (a container): proc-walk, with the fix in the notes', () => {
    const caps = detect({ proc: join(pureV2('ro', { procs: [4242], ro: true }), 'proc'), pid: 4242 });
    expect(caps.v2?.writable).toBe(false);
    expect(caps.plan.mechanism).toBe('proc-walk');
    expect(caps.notes.join('\n')).toMatch(/Delegate=yes/);
  });

  it('pure v2: Containment moves the kernel into a leaf before enabling controllers, then nests the run', () => {
    const root = pureV2('create', { procs: [process.pid] });
    const caps = detect({ proc: join(root, 'proc') });
    const c = Containment.create({ runId: 'abc123', caps });
    const own = join(root, 'cg', OWN);
    expect(c.report().errors).toEqual([]);
    expect(c.kernelLeaf).toMatch(new RegExp(`^${own}/agentos\\.kernel\\.k${process.pid}\\.s\\d+$`));
    expect(readFileSync(join(c.kernelLeaf!, 'cgroup.procs'), 'utf8')).toBe(String(process.pid));
    expect(readFileSync(join(own, 'cgroup.subtree_control'), 'utf8')).toBe('+memory +pids');
    expect(c.runDirs.v2).toMatch(new RegExp(`^${own}/agentos-abc123\\.k${process.pid}\\.s\\d+$`));
    expect(readFileSync(join(c.runDirs.v2!, 'cgroup.subtree_control'), 'utf8')).toBe('+memory +pids');
    const cell = c.cell('coder/v2', 3);
    expect(cell.dirs.v2).toBe(join(c.runDirs.v2!, 'coder_v2.3.1'));
    expect(cell.dirs.memory).toBeNull();
  });

  it('a malformed run id is refused with E_CONTAINMENT', () => {
    expect(() => Containment.create({ runId: '../x', mode: 'proc-walk' })).toThrow(expect.objectContaining({ code: 'E_CONTAINMENT' }));
  });
});
