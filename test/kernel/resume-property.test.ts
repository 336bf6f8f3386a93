/**
 * The property of durable runs, with real processes and a real SIGKILL: a ~100-task DAG whose handlers
 * append their task id to a side-effect file is run by `agentos run`; the kernel is SIGKILLed at random
 * moments (after a random number of side effects, or mid-burst once the journal grew by a random number
 * of bytes, or a random time after it started), then `agentos resume`d, killed again, … until done.
 * After every kill we wait for the reaper to end every process of the run before asserting; what had
 * succeeded before a kill is read from the journal. The seed is logged; RESUME_SEED=<n> replays it,
 * RESUME_KILLS=<n> sets the kills and RESUME_TASKS=<n> the DAG's size (`npm run bench:journal -- --property`
 * runs a longer variant: benchmarks/resume-property.ts).
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readJournalFile } from '../../src/journal/reader.js';
import { replay } from '../../src/journal/replay.js';
import type { RunReport } from '../../src/observe/report.js';
import { CLI, FIXTURE_AGENTS, ROOT, cleanupTempDirs, readJson, tempDir } from '../helpers.js';

afterEach(() => cleanupTempDirs());

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CONCURRENCY = 3;
/** The CI variant (20 kills, 100 tasks) within 170 s; a longer one (RESUME_KILLS, RESUME_TASKS) gets time in proportion. */
const TIMEOUT_MS = 170_000 * Math.max(1, Number(process.env.RESUME_KILLS ?? 20) / 20) * Math.max(1, Number(process.env.RESUME_TASKS ?? 100) / 100);

/** Layers of random width (bursts of ready tasks: many facts per group commit), 1-3 deps on earlier tasks. */
function dag(rand: () => number, n: number, file: string) {
  const tasks: Array<{ id: string; agent: string; deps: string[]; input: unknown }> = [];
  let layerStart = 0;
  while (tasks.length < n) {
    const width = Math.min(n - tasks.length, 1 + Math.floor(rand() * 12));
    const prev = tasks.slice(0, layerStart);
    const start = tasks.length;
    for (let i = 0; i < width; i++) {
      const deps = new Set<string>();
      const k = prev.length === 0 ? 0 : 1 + Math.floor(rand() * 3);
      for (let d = 0; d < k; d++) deps.add(prev[Math.floor(rand() * prev.length)]!.id);
      tasks.push({ id: `t${tasks.length}`, agent: 'journal_agent', deps: [...deps], input: { file, ms: 2 + Math.floor(rand() * 25) } });
    }
    layerStart = start;
  }
  return tasks;
}

/** Processes whose command line names this run (kernel, reaper, agents: their titles carry run=<id>). */
function processesOf(runId: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (!cmd.includes(`run=${runId}`)) continue;
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') out.push(Number(d));
    } catch {
      // gone while we looked
    }
  }
  return out;
}

async function until(cond: () => boolean, timeoutMs: number, what: string, stepMs = 3): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[0]!) : []);
const size = (file: string): number => (existsSync(file) ? statSync(file).size : 0);

describe('agentos resume after SIGKILL (property)', () => {
  it('loses nothing that finished: every task succeeds once, outputs as uninterrupted, only in-flight attempts re-run, no orphans', async () => {
    const seed = Number(process.env.RESUME_SEED ?? Date.now() % 1_000_000);
    const wantKills = Number(process.env.RESUME_KILLS ?? 20);
    const nTasks = Number(process.env.RESUME_TASKS ?? 100);
    console.log(`resume property: seed ${seed} (RESUME_SEED=${seed} replays it), ${wantKills} kills`);
    const rand = rng(seed);
    const dir = tempDir();
    const side = join(dir, 'side.txt');
    const refSide = join(dir, 'ref-side.txt');
    const tasks = dag(rand, nTasks, side);
    writeFileSync(join(dir, 'plan.yaml'), stringify({ name: 'resume-property', tasks }));
    writeFileSync(join(dir, 'ref.yaml'), stringify({ name: 'resume-property', tasks: tasks.map((t) => ({ ...t, input: { ...(t.input as object), file: refSide } })) }));
    const common = ['--agents', FIXTURE_AGENTS, '--runs-dir', join(dir, 'runs'), '--quiet', '--concurrency', String(CONCURRENCY)];

    // The uninterrupted run: the outputs every resumed run must reproduce.
    const ref = await execa('node', [CLI, 'run', join(dir, 'ref.yaml'), ...common, '--report', join(dir, 'ref.json')], { cwd: ROOT, reject: false, all: true });
    expect(ref.exitCode, ref.all).toBe(0);
    const refOut = new Map(readJson<RunReport>(join(dir, 'ref.json')).tasks.map((t) => [t.id, t.output]));

    const runsBefore = new Set(readdirSync(join(dir, 'runs')));
    let runDir: string | undefined;
    let kills = 0;
    const epochs: Array<{ executed: string[]; succeeded: Set<string>; inflight: Set<string> }> = [];
    let seen = 0;
    let final: { code: number | undefined; all: string } | undefined;
    for (let round = 0; round < Math.max(200, 2 * wantKills) && !final; round++) {
      const args = runDir ? ['resume', runDir, '--quiet'] : ['run', join(dir, 'plan.yaml'), ...common];
      const child = execa('node', [CLI, ...args], { cwd: ROOT, reject: false, all: true });
      const ended = child.then((r) => r);
      let done = false;
      void ended.then(() => (done = true));
      if (kills < wantKills) {
        if (!runDir) {
          // The first kill comes after the header: a run killed before it started has nothing to resume.
          await until(() => done || readdirSync(join(dir, 'runs')).some((d) => !runsBefore.has(d) && size(join(dir, 'runs', d, 'journal.jsonl')) > 0), 30_000, 'the journal');
          const id = readdirSync(join(dir, 'runs')).find((d) => !runsBefore.has(d));
          if (id) runDir = join(dir, 'runs', id);
        }
        const journal = join(runDir!, 'journal.jsonl');
        const mode = rand();
        const lines0 = lines(side).length;
        const bytes0 = size(journal);
        if (mode < 0.4) {
          // Small steps: a quiet machine runs a task in a few ms, and the run must still see >= 20 kills.
          const n = 1 + Math.floor(rand() * 3);
          await until(() => done || lines(side).length >= lines0 + n, 30_000, `${n} side effects`);
        } else if (mode < 0.8) {
          // Mid-burst: the journal grows by group commits of many facts at once.
          const b = 200 + Math.floor(rand() * 1000);
          await until(() => done || size(journal) >= bytes0 + b, 30_000, `${b} journal bytes`, 1);
        } else {
          const ms = Math.floor(rand() * 400);
          await new Promise((r) => setTimeout(r, ms));
        }
        if (!done) {
          child.kill('SIGKILL');
          await ended;
          kills++;
          const runId = runDir!.split('/').pop()!;
          // The reaper ends every agent once the kernel's channel closes; no process of the run may remain.
          await until(() => processesOf(runId).length === 0, 15_000, `the reaper to end run ${runId}'s processes`, 20);
          const all = lines(side);
          const state = replay(readJournalFile(journal).facts);
          const succeeded = new Set([...state.tasks.values()].filter((t) => t.status === 'succeeded').map((t) => t.id));
          const executed = all.slice(seen);
          seen = all.length;
          epochs.push({ executed, succeeded, inflight: new Set(executed.filter((id) => !succeeded.has(id))) });
          continue;
        }
      }
      const r = await ended;
      final = { code: r.exitCode, all: r.all ?? '' };
      if (!runDir) runDir = join(dir, 'runs', readdirSync(join(dir, 'runs')).find((d) => !runsBefore.has(d))!);
    }
    expect(final, 'the run never finished').toBeDefined();
    expect(final!.code, final!.all).toBe(0);
    if (kills < Math.min(wantKills, 20)) console.log(final!.all);
    console.log(`resume property: seed ${seed}: ${kills} kills, side effects ${lines(side).length} for ${tasks.length} tasks`);
    expect(kills).toBeGreaterThanOrEqual(Math.min(wantKills, 20));

    const report = readJson<RunReport>(join(runDir!, 'report.json'));
    // Every task succeeded, with the output of the uninterrupted run.
    expect(report.status).toBe('succeeded');
    expect(report.source).toBe('journal');
    expect(report.tasks).toHaveLength(tasks.length);
    for (const t of report.tasks) {
      expect(t.state, t.id).toBe('succeeded');
      expect(t.output, t.id).toEqual(refOut.get(t.id));
    }
    expect(report.resumed.length).toBeGreaterThanOrEqual(1);

    const all = lines(side);
    const finalEpoch = all.slice(seen);
    const count = new Map<string, number>();
    for (const id of all) count.set(id, (count.get(id) ?? 0) + 1);
    for (let k = 0; k < epochs.length; k++) {
      const e = epochs[k]!;
      // Re-executions only for attempts in flight at a kill: at most the concurrency per kill.
      expect(e.inflight.size, `kill ${k + 1}: attempts in flight`).toBeLessThanOrEqual(CONCURRENCY);
      // A task that had succeeded before kill k never runs again.
      const later = [...epochs.slice(k + 1).flatMap((x) => x.executed), ...finalEpoch];
      for (const id of e.succeeded) expect(later.includes(id), `${id} succeeded before kill ${k + 1} and ran again`).toBe(false);
    }
    // Every task ran exactly once, plus once per kill that caught it in flight.
    for (const t of tasks) {
      const extra = epochs.filter((e) => e.inflight.has(t.id)).length;
      expect(count.get(t.id), `executions of ${t.id}`).toBe(1 + extra);
    }
    // Attempts the journal saw in flight at a kill are in the report as `interrupted`, not counted as retries.
    const interrupted = report.tasks.flatMap((t) => t.failures.filter((f) => f.kind === 'interrupted'));
    expect(interrupted.length).toBeLessThanOrEqual(epochs.reduce((n, e) => n + e.inflight.size, 0));
    appendFileSync(join(dir, 'done'), 'ok');
  }, TIMEOUT_MS);
});
