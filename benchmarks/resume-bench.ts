/**
 * `npm run bench:resume` -> benchmarks/results/resume.json
 *
 * How fast `agentos resume` takes over a big run: a 10,000-task plan (100 chains of 100 no-op tasks,
 * each task after the one 100 places before it) runs with its journal until 9,000 tasks succeeded, then
 * it is interrupted (as by Ctrl-C: the attempts in flight are recorded as stopped). Copies of that run
 * directory are then resumed:
 *  - by the CLI (`node dist/src/cli/main.js resume <dir> --quiet`, REPEAT times): the time from spawning
 *    the command to its first dispatched task, read from the journal (`attempt.started` after
 *    `run.resumed`, epoch ms) - goal (issue 11): <= 2 s;
 *  - in this process, once, phase by phase: prepareResume (read + validate the journal, replay,
 *    completeness, content hashes), the kernel's construction, run() up to the first dispatch (the
 *    run.resumed fact made durable, agents spawned, the graph restored).
 * Usage: node dist/benchmarks/resume-bench.js [--tasks N] [--done N] (BENCH_REPEAT: CLI resumes, default 3;
 * BENCH_KEEP=1 keeps the run directories for profiling).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AgentRegistry } from '../src/config/registry.js';
import type { Plan } from '../src/config/plan.js';
import { readJournalFile } from '../src/journal/reader.js';
import { Kernel } from '../src/kernel/kernel.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { prepareResume } from '../src/runs/resume.js';
import { median, round } from './stats.js';

const { values } = parseArgs({ options: { tasks: { type: 'string' }, done: { type: 'string' } } });
const TASKS = Number(values.tasks ?? 10_000);
const DONE = Number(values.done ?? 9_000);
const WIDTH = 100;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const AGENTS = join(PACKAGE_ROOT, 'benchmarks/agents');
const CLI = join(PACKAGE_ROOT, 'dist/src/cli/main.js');
const log = (m: string): void => void process.stderr.write(`${m}\n`);

function registry(): AgentRegistry {
  const r = new AgentRegistry([AGENTS]);
  Object.assign(r.get('noop'), { instances: 2 });
  return r;
}

/** Run the plan until `DONE` tasks succeeded, then interrupt it; the run directory. */
async function interruptedRun(runsDir: string, planFile: string, plan: Plan): Promise<string> {
  const k = new Kernel({ registry: registry(), runsDir, concurrency: 16, sampleIntervalMs: 60_000, journal: { planFile } });
  let done = 0;
  k.events.on((e) => {
    if (e.type === 'task.state' && e.state === 'succeeded' && ++done === DONE) k.interrupt('SIGINT');
  });
  const report = await k.run(plan);
  if (report.status !== 'interrupted') throw new Error(`resume bench: the first run ended ${report.status}, not interrupted`);
  return k.runDir;
}

/** The journal's first attempt.started after its last run.resumed (epoch ms), and that run.resumed's. */
function firstDispatchAfterResume(runDir: string): { resumedAt: number; firstStartedAt: number } {
  const facts = readJournalFile(join(runDir, 'journal.jsonl')).facts;
  let resumedAt = -1;
  let firstStartedAt = -1;
  for (const f of facts) {
    if (f.type === 'run.resumed') {
      resumedAt = f.ts_ms;
      firstStartedAt = -1;
    } else if (f.type === 'attempt.started' && resumedAt >= 0 && firstStartedAt < 0) firstStartedAt = f.ts_ms;
  }
  if (resumedAt < 0 || firstStartedAt < 0) throw new Error(`resume bench: no dispatch after run.resumed in ${runDir}`);
  return { resumedAt, firstStartedAt };
}

/** A copy of the run directory under its own parent, under the same run id (the kernel finds it by id). */
function copyRun(runDir: string, base: string, n: number): string {
  const parent = join(base, `copy-${n}`);
  const to = join(parent, runDir.split('/').pop()!);
  mkdirSync(parent, { recursive: true });
  cpSync(runDir, to, { recursive: true });
  return to;
}

async function inProcess(runDir: string): Promise<Record<string, number>> {
  const t0 = performance.now();
  const prep = prepareResume({ run: runDir, runsDir: join(runDir, '..'), agents: [], allowChanged: false });
  const t1 = performance.now();
  const k = new Kernel(prep.kernel);
  const t2 = performance.now();
  let first = 0;
  k.events.on((e) => {
    if (first === 0 && e.type === 'task.state' && e.state === 'running') first = performance.now();
  });
  const report = await k.run(prep.plan);
  if (report.status !== 'succeeded') throw new Error(`resume bench: the in-process resume ended ${report.status}`);
  return { prepare_ms: round(t1 - t0), kernel_new_ms: round(t2 - t1), run_to_first_dispatch_ms: round(first - t2), total_to_first_dispatch_ms: round(first - t0), run_total_ms: round(performance.now() - t0) };
}

async function main(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'agentos-resume-bench-'));
  try {
    const tasks = Array.from({ length: TASKS }, (_, i) => ({ id: `t${i}`, agent: 'noop', deps: i >= WIDTH ? [`t${i - WIDTH}`] : [], input: { n: i } }));
    const plan = { name: 'resume-bench', tasks } as Plan;
    const planFile = join(base, 'plan.json');
    writeFileSync(planFile, JSON.stringify(plan));
    log(`resume bench: running ${TASKS} tasks until ${DONE} succeeded...`);
    const runDir = await interruptedRun(join(base, 'runs'), planFile, plan);
    const facts = readJournalFile(join(runDir, 'journal.jsonl')).facts;
    const succeeded = facts.filter((f) => f.type === 'task.succeeded').length;
    const journalBytes = statSync(join(runDir, 'journal.jsonl')).size;
    log(`interrupted with ${succeeded} succeeded; journal ${facts.length} facts, ${journalBytes} bytes`);
    const cli: Array<{ to_first_dispatch_ms: number; to_run_resumed_ms: number; command_total_ms: number; load1: number }> = [];
    for (let i = 0; i < REPEAT; i++) {
      const dir = copyRun(runDir, base, i);
      const load1 = round(loadavg()[0]!, 2);
      const t0 = Date.now();
      execFileSync('node', [CLI, 'resume', dir, '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] });
      const total = Date.now() - t0;
      const at = firstDispatchAfterResume(dir);
      cli.push({ to_first_dispatch_ms: at.firstStartedAt - t0, to_run_resumed_ms: at.resumedAt - t0, command_total_ms: total, load1 });
      log(`  CLI resume ${i + 1}: first dispatch after ${at.firstStartedAt - t0} ms (run.resumed durable after ${at.resumedAt - t0} ms), whole command ${total} ms, load ${load1}`);
    }
    const phases = await inProcess(copyRun(runDir, base, REPEAT));
    log(`  in process: ${JSON.stringify(phases)}`);
    const firstMs = median(cli.map((c) => c.to_first_dispatch_ms));
    const result = {
      measured_at: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
      load_before: loadavg().map((l) => round(l, 2)),
      run: { tasks: TASKS, succeeded_before_resume: succeeded, journal_facts: facts.length, journal_bytes: journalBytes, shape: `${WIDTH} chains of ${TASKS / WIDTH}` },
      cli,
      cli_to_first_dispatch_ms_median: firstMs,
      in_process: phases,
      goal: { max_to_first_dispatch_ms: 2000, met: firstMs <= 2000 },
    };
    mkdirSync(join(PACKAGE_ROOT, 'benchmarks/results'), { recursive: true });
    writeFileSync(join(PACKAGE_ROOT, 'benchmarks/results/resume.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    log(`resume of ${TASKS} tasks with ${succeeded} done: first dispatch after ${firstMs} ms (median of ${REPEAT}; goal <= 2000 ms: ${result.goal.met ? 'met' : 'MISSED'})`);
  } finally {
    if (process.env.BENCH_KEEP) log(`kept ${base}`);
    else rmSync(base, { recursive: true, force: true });
  }
}

await main();
