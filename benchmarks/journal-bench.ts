/**
 * `npm run bench:journal` -> benchmarks/results/journal.json
 *
 * The cost of the run journal (src/journal/file-journal.ts) on this machine's disk:
 *  1. one appender awaiting each fact (a kernel with one task in flight): ack latency with fdatasync vs
 *     write only;
 *  2. C concurrent appenders (a kernel with many attempts finishing): appends/s and ack p50/p99 for
 *     write only, fdatasync per fact (no group commit), and group commit with windows 0, 2 and 5 ms;
 *  3. fire-and-forget (appendNoWait) then one flush: the ceiling.
 * Each mode runs for BENCH_MS (default 1500) and REPEAT (default 3) times; the median run is kept.
 * The journal directory is under os.tmpdir() unless BENCH_DIR says otherwise: fsync cost is the file
 * system's, so say which one the figures were taken on. Every figure is measured; nothing is hard-coded.
 * `-- --property [--kills N] [--tasks N] [--seeds N]` runs the long SIGKILL/resume property test instead
 * (./resume-property.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileJournal, type FileJournalOptions } from '../src/journal/file-journal.js';
import type { FactInput } from '../src/journal/facts.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { runPropertyVariant } from './resume-property.js';
import { quantile } from './stats.js';

const OUT = join(PACKAGE_ROOT, 'benchmarks', 'results', 'journal.json');
const DURATION_MS = Number(process.env.BENCH_MS ?? 1500);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const BASE = process.env.BENCH_DIR ?? tmpdir();

/** A typical fact: a task result with a ~200-byte output. */
const FACT: FactInput = { type: 'task.succeeded', task: 'layer3-task-0042', attempt: 1, agent: 'analyzer', output: { summary: 'x'.repeat(160), score: 0.93 } };
const HEADER: FactInput = { type: 'run.header', format: 1, run_id: 'bench', pid: process.pid, plan: { path: null, text: '', sha256: '0'.repeat(64) }, agents: [], options: { injections: [], concurrency: CONCURRENCY } };

interface Result {
  mode: string;
  appenders: number;
  appends_per_s: number;
  ack_p50_ms: number;
  ack_p99_ms: number;
  facts_per_fsync: number | null;
}

const r3 = (n: number): number => Math.round(n * 1000) / 1000;

async function measure(mode: string, opts: FileJournalOptions, appenders: number): Promise<Result> {
  const dir = mkdtempSync(join(BASE, 'agentos-journal-bench-'));
  try {
    const j = FileJournal.create(dir, opts);
    await j.append(HEADER);
    const lat: number[] = [];
    const end = performance.now() + DURATION_MS;
    const loop = async (): Promise<void> => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await j.append(FACT);
        lat.push(performance.now() - t0);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: appenders }, loop));
    const secs = (performance.now() - t0) / 1000;
    await j.close();
    return {
      mode,
      appenders,
      appends_per_s: Math.round(lat.length / secs),
      ack_p50_ms: r3(quantile(lat, 0.5)),
      ack_p99_ms: r3(quantile(lat, 0.99)),
      facts_per_fsync: j.stats.syncs > 0 ? Math.round((j.stats.facts / j.stats.syncs) * 10) / 10 : null,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Open loop: facts arrive at `rate` per second whatever the acks do (a kernel finishing tasks at that pace). */
async function openLoop(mode: string, opts: FileJournalOptions, rate: number): Promise<Result> {
  const dir = mkdtempSync(join(BASE, 'agentos-journal-bench-'));
  try {
    const j = FileJournal.create(dir, opts);
    await j.append(HEADER);
    const lat: number[] = [];
    const pending: Array<Promise<void>> = [];
    const t0 = performance.now();
    let sent = 0;
    while (performance.now() - t0 < DURATION_MS) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      for (; sent < due; sent++) {
        const a = performance.now();
        pending.push(j.append(FACT).then(() => void lat.push(performance.now() - a)));
      }
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(pending);
    const secs = (performance.now() - t0) / 1000;
    await j.close();
    return { mode, appenders: 0, appends_per_s: Math.round(lat.length / secs), ack_p50_ms: r3(quantile(lat, 0.5)), ack_p99_ms: r3(quantile(lat, 0.99)), facts_per_fsync: Math.round((j.stats.facts / Math.max(1, j.stats.syncs)) * 10) / 10 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function noWait(opts: FileJournalOptions, n: number): Promise<Result> {
  const dir = mkdtempSync(join(BASE, 'agentos-journal-bench-'));
  try {
    const j = FileJournal.create(dir, opts);
    const t0 = performance.now();
    j.appendNoWait(HEADER);
    for (let i = 0; i < n; i++) j.appendNoWait(FACT);
    await j.flush();
    const ms = performance.now() - t0;
    await j.close();
    // One ack (the flush) for all n facts: its latency is the whole run.
    return { mode: `appendNoWait + flush, ${opts.sync === 'none' ? 'write only' : 'fdatasync'}, window 2 ms`, appenders: 1, appends_per_s: Math.round(n / (ms / 1000)), ack_p50_ms: r3(ms), ack_p99_ms: r3(ms), facts_per_fsync: Math.round((j.stats.facts / Math.max(1, j.stats.syncs)) * 10) / 10 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function median(run: () => Promise<Result>): Promise<Result> {
  const rs: Result[] = [];
  for (let i = 0; i < REPEAT; i++) rs.push(await run());
  rs.sort((a, b) => a.appends_per_s - b.appends_per_s);
  return rs[Math.floor(rs.length / 2)]!;
}

function fileSystem(): string {
  try {
    return execFileSync('df', ['-T', BASE], { encoding: 'utf8' }).trim().split('\n').pop()!.split(/\s+/)[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const results: Result[] = [];
  const add = async (mode: string, opts: FileJournalOptions, appenders: number): Promise<void> => {
    const r = await median(() => measure(mode, opts, appenders));
    results.push(r);
    console.log(`${mode.padEnd(44)} x${String(appenders).padEnd(3)} ${String(r.appends_per_s).padStart(8)} appends/s  ack p50 ${r.ack_p50_ms} ms  p99 ${r.ack_p99_ms} ms  facts/fsync ${r.facts_per_fsync ?? '-'}`);
  };
  await add('write only (no fsync)', { sync: 'none', windowMs: 0 }, 1);
  await add('fdatasync', { windowMs: 0 }, 1);
  await add('write only (no fsync), window 0', { sync: 'none', windowMs: 0 }, CONCURRENCY);
  await add('fdatasync per fact (no group commit)', { windowMs: 0, maxBatchFacts: 1 }, CONCURRENCY);
  for (const w of [0, 2, 5]) await add(`group commit, window ${w} ms`, { windowMs: w }, CONCURRENCY);
  const RATE = Number(process.env.BENCH_RATE ?? 2000);
  for (const w of [0, 2, 5]) {
    const r = await median(() => openLoop(`open loop ${RATE}/s, window ${w} ms`, { windowMs: w }, RATE));
    results.push(r);
    console.log(`${r.mode.padEnd(48)} ${String(r.appends_per_s).padStart(8)} appends/s  ack p50 ${r.ack_p50_ms} ms  p99 ${r.ack_p99_ms} ms  facts/fsync ${r.facts_per_fsync}`);
  }
  // The CPU cost of an append (write only) and what the disk's bandwidth allows (fdatasync at the end).
  for (const sync of ['none', 'fdatasync'] as const) {
    const nw = await median(() => noWait({ windowMs: 2, sync }, 100_000));
    results.push(nw);
    console.log(`${nw.mode.padEnd(48)} ${String(nw.appends_per_s).padStart(8)} appends/s (100,000 facts in ${nw.ack_p50_ms} ms)`);
  }
  const out = { when: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', fs: fileSystem(), duration_ms: DURATION_MS, repeat: REPEAT, concurrency: CONCURRENCY, fact_bytes: JSON.stringify(FACT).length + 40, results };
  mkdirSync(join(PACKAGE_ROOT, 'benchmarks', 'results'), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`file system ${out.fs}; results in benchmarks/results/journal.json`);
}

// --property: the longer variant of the SIGKILL/resume property test instead of the figures.
if (process.argv.includes('--property')) process.exitCode = runPropertyVariant(process.argv.slice(2)) ? 0 : 1;
else await main();
