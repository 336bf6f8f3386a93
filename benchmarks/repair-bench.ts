/**
 * The repair benchmark: `agentos repair` on every program of test/repair/fixtures (small one-bug
 * programs written for this project, each with a node:test suite, a reference fix and held-out tests
 * the repair never sees). Each repair runs on a copy without the held-out tests; a reported fix is then
 * applied with `patch -p1` to a fresh copy and judged by the visible and the held-out tests:
 *   fixed                - reported as THE fix (confidence `fix`) and it passes both (a correct fix),
 *   plausible_but_wrong  - reported as THE fix, passes the visible suite but not the held-out tests,
 *   plausible_only       - reported as a plausible patch, not as the fix (correct or not: see
 *                          plausible_only_correct); counts as not fixed for the fixed rate,
 *   not_fixed            - no patch passes.
 * Every other plausible patch the search saw is judged the same way (the overfitting risk of the wider
 * search: overfitting rate = wrong plausible patches / plausible patches), and so is the best-ranked one
 * (`by_rank`: what reporting the rank winner as the fix, without the differential check, would give).
 * Also checks that no process of a run outlives it.
 * Run: npm run bench:repair [-- --set tuning|heldout] [-- --only name,name]
 * Writes benchmarks/results/repair.json.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { PACKAGE_ROOT } from '../src/paths.js';
import type { RunReport } from '../src/observe/report.js';
import type { SearchResult } from '../src/repair/search.js';

const FIXTURES = join(PACKAGE_ROOT, 'test/repair/fixtures');
const CLI = join(PACKAGE_ROOT, 'dist/src/cli/main.js');
const RUN_LIMIT_MS = 180_000;

interface Meta {
  family: string;
  set: 'tuning' | 'heldout';
  bug: string;
  source: string;
}

interface Row {
  name: string;
  set: string;
  family: string;
  verdict: 'fixed' | 'plausible_but_wrong' | 'plausible_only' | 'not_fixed' | 'error';
  /** For plausible_only: whether the reported patch is in fact correct. */
  plausible_only_correct: boolean | null;
  /** Whether the best-ranked plausible patch is correct (null: none passed). */
  rank_winner_correct: boolean | null;
  confidence_reason: string | null;
  /** The differential check: inputs, behaviour classes of the clean patches, the reported patch's drift, time. */
  vet: { inputs: number; clean: number; behaviours: number; chosen_drift: number; chosen_drift_unexplained: number; rivals: number; probe_ms: number | null } | null;
  ms: number;
  exit_code: number | null;
  fix: string | null;
  fix_source: string | null;
  same_as_reference: boolean;
  candidates: number;
  killed: { timeout: number; memory: number };
  plausible: number;
  plausible_wrong: number;
  stopped: string | null;
  baseline_note: string | null;
  leftover_pids: number[];
}

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The program as the repair sees it: package.json, src/ and test/ (no held-out tests, no reference). */
function visibleCopy(fixture: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const part of ['package.json', 'src', 'test']) cpSync(join(fixture, part), join(to, part), { recursive: true });
}

/** Whether a patched program passes its visible suite and its held-out tests. */
async function judge(fixture: string, dir: string): Promise<boolean> {
  cpSync(join(fixture, 'heldout'), join(dir, 'heldout'), { recursive: true });
  const visible = await execa('node', ['--test'], { cwd: dir, reject: false, timeout: 30_000 });
  const held = await execa('node', ['heldout/extra.mjs'], { cwd: dir, reject: false, timeout: 30_000 });
  return visible.exitCode === 0 && held.exitCode === 0;
}

async function benchOne(name: string, meta: Meta, scratch: string): Promise<Row> {
  const fixture = join(FIXTURES, name);
  const repo = join(scratch, name, 'repo');
  const out = join(scratch, name, 'out');
  visibleCopy(fixture, repo);
  const t0 = performance.now();
  const r = await execa('node', [CLI, 'repair', repo, '--out', out, '--runs-dir', join(scratch, name, 'runs'), '--quiet'], { reject: false, timeout: RUN_LIMIT_MS, all: true });
  const ms = Math.round(performance.now() - t0);
  const row: Row = { name, set: meta.set, family: meta.family, verdict: 'not_fixed', plausible_only_correct: null, rank_winner_correct: null, confidence_reason: null, vet: null, ms, exit_code: r.exitCode ?? null, fix: null, fix_source: null, same_as_reference: false, candidates: 0, killed: { timeout: 0, memory: 0 }, plausible: 0, plausible_wrong: 0, stopped: null, baseline_note: null, leftover_pids: [] };
  const reportFile = join(out, 'run-report.json');
  if (!existsSync(reportFile)) {
    row.verdict = 'error';
    console.error(`${name}: no run report (exit ${r.exitCode}): ${(r.all ?? '').slice(-800)}`);
    return row;
  }
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as RunReport;
  // Every process of the run must be gone once the CLI has returned.
  await new Promise((res) => setTimeout(res, 200));
  row.leftover_pids = report.agents.flatMap((a) => a.pids).filter(alive);
  const search = report.tasks.find((t) => t.id === 'patch')?.output as SearchResult | undefined;
  const base = report.tasks.find((t) => t.id === 'baseline')?.output as { note?: string } | undefined;
  row.baseline_note = base?.note ?? null;
  if (search) {
    row.candidates = search.candidates.length;
    row.killed = search.killed;
    row.plausible = search.plausible.length;
    row.stopped = search.stopped;
    // Judge every plausible patch on its own candidate copy (the search leaves them in the run's work dir).
    const work = join(report.run_dir, 'work', 'candidates');
    // Candidate tasks are numbered in rank order: the smallest number is the rank winner.
    const rankFirst = [...search.plausible].sort((a, b) => a.task.localeCompare(b.task))[0]?.task;
    for (const p of search.plausible) {
      const dir = join(work, p.task);
      const ok = existsSync(dir) && (await judge(fixture, dir));
      if (!ok) row.plausible_wrong++;
      if (p.task === rankFirst) row.rank_winner_correct = ok;
    }
    row.confidence_reason = search.vet?.reason ?? null;
    const v = search.vet;
    if (v) {
      const clean = v.variants.filter((x) => x.behaviour !== null);
      row.vet = { inputs: v.inputs, clean: clean.length, behaviours: new Set(clean.map((x) => x.behaviour)).size, chosen_drift: v.variants.find((x) => x.task === v.chosen)?.drift ?? 0, chosen_drift_unexplained: v.variants.find((x) => x.task === v.chosen)?.drift_unexplained ?? 0, rivals: v.rivals.length, probe_ms: v.probe_ms };
    }
  }
  if (existsSync(join(out, 'patch.diff')) && search?.winner) {
    row.fix = search.winner.description;
    row.fix_source = search.winner.source;
    const check = join(scratch, name, 'check');
    visibleCopy(fixture, check);
    const p = await execa('patch', ['-p1', '-i', join(out, 'patch.diff')], { cwd: check, reject: false });
    row.same_as_reference = p.exitCode === 0 && readFileSync(join(check, meta.source), 'utf8') === readFileSync(join(fixture, 'reference', meta.source.replace(/^src\//, '')), 'utf8');
    const correct = p.exitCode === 0 && (await judge(fixture, check));
    if (search.confidence === 'plausible') {
      row.verdict = 'plausible_only';
      row.plausible_only_correct = correct;
    } else row.verdict = r.exitCode === 0 && correct ? 'fixed' : 'plausible_but_wrong';
  }
  return row;
}

async function main(): Promise<void> {
  const only = opt('only')?.split(',');
  const set = opt('set');
  const names = readdirSync(FIXTURES).filter((n) => existsSync(join(FIXTURES, n, 'meta.json'))).sort();
  const metas = new Map(names.map((n) => [n, JSON.parse(readFileSync(join(FIXTURES, n, 'meta.json'), 'utf8')) as Meta]));
  const chosen = names.filter((n) => (!only || only.includes(n)) && (!set || metas.get(n)!.set === set));
  const scratch = mkdtempSync(join(tmpdir(), 'agentos-repair-bench-'));
  const rows: Row[] = [];
  console.log(`repair bench: ${chosen.length} programs, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}`);
  try {
    for (const name of chosen) {
      const row = await benchOne(name, metas.get(name)!, scratch);
      rows.push(row);
      console.log(`${name.padEnd(20)} ${row.set.padEnd(8)} ${(row.verdict + (row.verdict === 'plausible_only' ? (row.plausible_only_correct ? '(ok)' : '(wrong)') : '')).padEnd(22)} ${(row.ms / 1000).toFixed(1).padStart(6)} s  ${String(row.candidates).padStart(4)} cand  plausible ${row.plausible} (wrong ${row.plausible_wrong})  ${row.fix ?? ''}${row.leftover_pids.length ? `  LEFTOVER ${row.leftover_pids.join(',')}` : ''}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const summary = (which: string) => {
    const rs = rows.filter((r) => which === 'all' || r.set === which);
    const n = rs.length;
    const count = (v: Row['verdict']) => rs.filter((r) => r.verdict === v).length;
    const times = rs.map((r) => r.ms).sort((a, b) => a - b);
    return { programs: n, fixed: count('fixed'), plausible_but_wrong: count('plausible_but_wrong'), not_fixed: count('not_fixed'), errors: count('error'), fixed_rate: n ? Math.round((count('fixed') / n) * 1000) / 1000 : 0, ms_median: times[Math.floor(n / 2)] ?? 0, ms_max: times[n - 1] ?? 0, over_2_min: rs.filter((r) => r.ms > 120_000).length, plausible_patches: rs.reduce((s, r) => s + r.plausible, 0), overfitting_rate: rs.reduce((s, r) => s + r.plausible, 0) ? Math.round((rs.reduce((s, r) => s + r.plausible_wrong, 0) / rs.reduce((s, r) => s + r.plausible, 0)) * 1000) / 1000 : 0, plausible_wrong_patches: rs.reduce((s, r) => s + r.plausible_wrong, 0), plausible_only: count('plausible_only'), plausible_only_correct: rs.filter((r) => r.plausible_only_correct === true).length, by_rank: { fixed: rs.filter((r) => r.rank_winner_correct === true).length, wrong: rs.filter((r) => r.rank_winner_correct === false).length }, leftover_processes: rs.reduce((s, r) => s + r.leftover_pids.length, 0) };
  };
  const result = { date: new Date().toISOString(), node: process.version, cores: cpus().length, loadavg_at_end: loadavg().map((l) => Math.round(l * 10) / 10), summary: { all: summary('all'), tuning: summary('tuning'), heldout: summary('heldout') }, programs: rows };
  console.log(JSON.stringify(result.summary, null, 2));
  if (!only && !set) {
    mkdirSync(join(PACKAGE_ROOT, 'benchmarks/results'), { recursive: true });
    writeFileSync(join(PACKAGE_ROOT, 'benchmarks/results/repair.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log('wrote benchmarks/results/repair.json');
  } else if (opt('out')) writeFileSync(opt('out')!, `${JSON.stringify(result, null, 2)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
