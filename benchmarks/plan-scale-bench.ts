/**
 * Plans of any shape: a chain of N tasks listed in reverse dependency order (each task before the one it
 * depends on), whose head fails so every other task is skipped. Measures, through the real CLI and the
 * run's own events: insertion (first to last `task.added`), the transitive skip (the head's failure to
 * the last `skipped`) and the whole command's wall time.
 * Run: npm run build && node dist/benchmarks/plan-scale-bench.js [N=20000]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const N = Number(process.argv[2] ?? 20_000);
const CLI = resolve(import.meta.dirname, '../src/cli/main.js');

const dir = mkdtempSync(join(tmpdir(), 'agentos-plan-bench-'));
try {
  for (const [name, body] of [['head', 'throw new Error("head fails");'], ['ok', 'return 1;']] as const) {
    mkdirSync(join(dir, 'agents', name), { recursive: true });
    writeFileSync(join(dir, 'agents', name, 'agent.yaml'), `name: ${name}\nhandler: ./handler.js\nretry: { max_attempts: 1 }\n`);
    writeFileSync(join(dir, 'agents', name, 'handler.js'), `export default async () => { ${body} };\n`);
  }
  // JSON is YAML; one line per task keeps the file small. t(N-1) is listed first and depends on t(N-2) ...
  const tasks: string[] = [];
  for (let i = N - 1; i >= 0; i--) tasks.push(`{"id":"t${i}","agent":"${i === 0 ? 'head' : 'ok'}"${i > 0 ? `,"deps":["t${i - 1}"]` : ''}}`);
  writeFileSync(join(dir, 'plan.yaml'), `{"name":"reverse-chain","tasks":[\n${tasks.join(',\n')}\n]}\n`);
  const t0 = performance.now();
  const res = spawnSync('node', [CLI, 'run', join(dir, 'plan.yaml'), '--agents', join(dir, 'agents'), '--runs-dir', join(dir, 'runs'), '--quiet'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = performance.now() - t0;
  const runs = readdirSync(join(dir, 'runs'));
  const events = readFileSync(join(dir, 'runs', runs[0]!, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; t: number; state?: string; task?: string });
  const added = events.filter((e) => e.type === 'task.added');
  const failed = events.find((e) => e.type === 'task.state' && e.state === 'failed');
  const skipped = events.filter((e) => e.type === 'task.state' && e.state === 'skipped');
  const ms = (x: number | undefined): string => (x === undefined ? 'n/a' : x.toFixed(0));
  console.log(`plan of ${N} tasks in reverse dependency order (exit ${res.status}; ${res.status === 70 ? res.stderr.split('\n').find((l) => l.includes('internal')) ?? '' : 'ok'})`);
  console.log(`  insertion (first..last task.added, ${added.length} tasks): ${ms(added.length ? added.at(-1)!.t - added[0]!.t : undefined)} ms`);
  console.log(`  transitive skip (head failed..last skipped, ${skipped.length} tasks): ${ms(failed && skipped.length ? skipped.at(-1)!.t - failed.t : undefined)} ms`);
  console.log(`  whole command (parse, checks, agents, run, report): ${ms(wall)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
