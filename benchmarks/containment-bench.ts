/**
 * Containment costs, medians over real processes on this machine:
 *   cell_create_us   Containment.cell(): mkdir of one child cgroup per hierarchy used
 *   attach_us        cell.attach(pid): one cgroup.procs write per hierarchy (p10/p90 too: it is bimodal)
 *   kill_ms          cell.killAll() of a one-process cell (kill write + wait until cgroup.procs is empty)
 *   remove_ms        cell.remove(): rmdir per hierarchy (EBUSY retries included)
 *   cycle_ms         the four above together, per agent process
 *   walk_100_ms      walkTree() over a parent with 100 children (parentage only, every thread)
 *   walk_tag_100_ms  the same plus the env-tag scan of every /proc/<pid>/environ on the machine
 *   rss_100_ms       treeRssBytes() over the same tree (walk + 101 statm reads)
 * Usage: npm run build && node dist/benchmarks/containment-bench.js [--quick]. Writes benchmarks/results/containment.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Containment, detect, killTree, treeRssBytes, walkTree } from '../src/process/containment/index.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { median, quantile, round } from './stats.js';

const quick = process.argv.includes('--quick');
const N_CELLS = quick ? 10 : 40;
const N_WALK = quick ? 10 : 50;
const us = (t0: number): number => (performance.now() - t0) * 1000;

function sleeper(tag?: string): ChildProcess {
  return spawn('sleep', ['60'], { stdio: 'ignore', env: tag ? { ...process.env, AGENTOS_RUN_TAG: tag } : process.env });
}
const exited = (c: ChildProcess): Promise<void> => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

async function cells(): Promise<Record<string, number> | null> {
  const caps = detect();
  if (caps.plan.mechanism === 'proc-walk') return null;
  const c = Containment.create({ runId: `bench${process.pid}`, caps });
  const t = { create: [] as number[], attach: [] as number[], kill: [] as number[], remove: [] as number[] };
  for (let i = 0; i < N_CELLS; i++) {
    const child = sleeper();
    let t0 = performance.now();
    const cell = c.cell('bench', i);
    t.create.push(us(t0));
    t0 = performance.now();
    cell.attach(child.pid!);
    t.attach.push(us(t0));
    t0 = performance.now();
    const r = await cell.killAll();
    await exited(child); // reaped by us: the cgroup can then be removed at once
    t.kill.push(us(t0));
    if (r.remaining.length) throw new Error('kill left processes');
    t0 = performance.now();
    const failed = await cell.remove();
    t.remove.push(us(t0));
    if (failed.length) throw new Error(failed.join('; '));
  }
  await c.cleanup();
  const m = { create: median(t.create), attach: median(t.attach), kill: median(t.kill), remove: median(t.remove) };
  return {
    cell_create_us: round(m.create),
    attach_us: round(m.attach),
    // Bimodal: ~0.15 ms when the cgroup migration lock is free, several ms when it must wait for an RCU grace period (busy machine).
    attach_p10_us: round(quantile(t.attach, 0.1)),
    attach_p90_us: round(quantile(t.attach, 0.9)),
    kill_ms: round(m.kill / 1000, 2),
    remove_ms: round(m.remove / 1000, 2),
    cycle_ms: round((m.create + m.attach + m.kill + m.remove) / 1000, 2),
  };
}

async function walks(): Promise<Record<string, number>> {
  const tag = `bench${process.pid}/walk#1`;
  const parent = spawn('/bin/sh', ['-c', 'for i in $(seq 100); do sleep 60 & done; wait'], { stdio: 'ignore', env: { ...process.env, AGENTOS_RUN_TAG: tag } });
  while (walkTree(parent.pid!).length < 100) await new Promise((r) => setTimeout(r, 20));
  const plain: number[] = [];
  const tagged: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < N_WALK; i++) {
    let t0 = performance.now();
    if (walkTree(parent.pid!).length !== 100) throw new Error('walk missed a child');
    plain.push(performance.now() - t0);
    t0 = performance.now();
    walkTree(parent.pid!, { tag });
    tagged.push(performance.now() - t0);
    t0 = performance.now();
    treeRssBytes(parent.pid!);
    rss.push(performance.now() - t0);
  }
  await killTree(parent.pid!, { tag });
  await exited(parent);
  return { walk_100_ms: round(median(plain), 2), walk_tag_100_ms: round(median(tagged), 2), rss_100_ms: round(median(rss), 2), procs_on_machine: readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length };
}

const caps = detect();
const result = { machine: { layout: caps.layout, plan: caps.plan }, cells: await cells(), walk: await walks() };
console.log(JSON.stringify(result, null, 2));
mkdirSync(join(PACKAGE_ROOT, 'benchmarks/results'), { recursive: true });
writeFileSync(join(PACKAGE_ROOT, 'benchmarks/results', quick ? 'containment-quick.json' : 'containment.json'), JSON.stringify(result, null, 2) + '\n');
