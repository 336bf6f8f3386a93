/**
 * A replacement is never taken for its predecessor's escapee. The kernel replaces a dead agent process
 * at once, in a new cell but in the same slot (agent#n); the old cell's killAll sweeps /proc for its env
 * tag until its deadline. With one tag per slot that sweep SIGKILLed the replacement while it started
 * (stress at fault rate 0.1 under load: "3 failed starts in a row", SIGKILL, no kill by the kernel).
 * Real processes, in cgroups where this machine has them (else the proc-walk cells: same tag rule).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Containment } from '../../src/process/containment/containment.js';
import { pidStart } from '../../src/protocol/pid-identity.js';
import { expectAllGone } from '../helpers.js';
import { endStarted, start } from './fixtures.js';

const runtimeDir = mkdtempSync(join(tmpdir(), 'agentos-slot-'));
const runs: Containment[] = [];
afterEach(async () => {
  await endStarted();
  for (const c of runs.splice(0)) await c.cleanup();
});
afterAll(() => rmSync(runtimeDir, { recursive: true, force: true }));

describe('one tag per process', () => {
  it("the old cell's killAll ends its own process and leaves the replacement in the same slot alone", async () => {
    const c = Containment.create({ runId: `slot${process.pid}`, runtimeDir });
    runs.push(c);
    const oldCell = c.cell('worker', 4);
    const old = start('where.mjs', [], { tag: oldCell.tag });
    oldCell.attach(old.pid);
    await old.next('cgroup');
    const newCell = c.cell('worker', 4);
    const replacement = start('where.mjs', [], { tag: newCell.tag });
    newCell.attach(replacement.pid);
    await replacement.next('cgroup'); // running with its tag in its environment
    const startedAt = pidStart(replacement.pid);
    const r = await oldCell.killAll(500);
    await old.exited;
    expect(r.escaped).toEqual([]);
    expect(pidStart(replacement.pid)).toBe(startedAt); // alive: the same process
    const killed = await Promise.race([replacement.exited.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 500))]);
    expect(killed).toBe(false);
    await newCell.killAll();
    await expectAllGone([old.pid, replacement.pid]);
  });
});
