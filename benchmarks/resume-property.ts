/**
 * The longer variant of the SIGKILL/resume property test (test/kernel/resume-property.test.ts), run from
 * the bench: `npm run bench:journal -- --property [--kills N] [--tasks N] [--seeds N]`. Each seed runs the
 * test once with RESUME_KILLS kills of the kernel over a RESUME_TASKS-task DAG (CI runs 20 kills over 100
 * tasks); every assertion of the test holds in each. Writes benchmarks/results/resume-property.json with
 * the seeds (RESUME_SEED=<n> replays one), the kills made, the side effects and the time each took.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src/paths.js';

interface SeedResult {
  seed: number;
  passed: boolean;
  kills: number | null;
  side_effects: number | null;
  seconds: number;
  load1: number;
}

export function runPropertyVariant(argv: string[]): boolean {
  const { values } = parseArgs({ args: argv, strict: false, options: { kills: { type: 'string' }, tasks: { type: 'string' }, seeds: { type: 'string' } } });
  const kills = Number(values.kills ?? 60);
  const tasks = Number(values.tasks ?? 200);
  const seeds = Number(values.seeds ?? 2);
  const results: SeedResult[] = [];
  for (let i = 0; i < seeds; i++) {
    const seed = (Date.now() + i * 7919) % 1_000_000;
    const load1 = Math.round(loadavg()[0]! * 100) / 100;
    process.stderr.write(`resume property (long): seed ${seed}, ${kills} kills, ${tasks} tasks (load ${load1})...\n`);
    const t0 = performance.now();
    const r = spawnSync('npx', ['vitest', 'run', 'test/kernel/resume-property.test.ts'], {
      cwd: PACKAGE_ROOT,
      env: { ...process.env, RESUME_SEED: String(seed), RESUME_KILLS: String(kills), RESUME_TASKS: String(tasks) },
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const out = `${r.stdout}${r.stderr}`;
    const m = /(\d+) kills, side effects (\d+) for/.exec(out);
    const res: SeedResult = { seed, passed: r.status === 0, kills: m ? Number(m[1]) : null, side_effects: m ? Number(m[2]) : null, seconds: Math.round((performance.now() - t0) / 100) / 10, load1 };
    results.push(res);
    process.stderr.write(`  ${res.passed ? 'passed' : 'FAILED'}: ${res.kills ?? '?'} kills, ${res.side_effects ?? '?'} side effects, ${res.seconds} s\n`);
    if (!res.passed) process.stderr.write(out.slice(-4000));
  }
  const file = join(PACKAGE_ROOT, 'benchmarks/results/resume-property.json');
  mkdirSync(join(PACKAGE_ROOT, 'benchmarks/results'), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ measured_at: new Date().toISOString(), kills_per_seed: kills, tasks, results }, null, 2)}\n`);
  process.stderr.write(`results in benchmarks/results/resume-property.json\n`);
  return results.every((r) => r.passed);
}
