/**
 * Baselines on the repair workflow, the same fault schedule for all three in each run:
 *   (a) single process doing every step (in-process retry of thrown errors only; 5 s whole-run deadline)
 *   (b) fixed sequential workflow, one fresh process per step, no retry or fallback (each step killed at
 *       its agent's timeout_ms)
 *   (c) AgentOS: `agentos run examples/crash-demo/plan.yaml --inject AGENT:FAULT@1 ...` (each agent of
 *       the plan runs one task, so AGENT:FAULT@1 is that task's first attempt)
 * A fault is drawn per step with probability R (crash, hang, oom, throw equally likely).
 */
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { PACKAGE_ROOT } from '../src/paths.js';
import { rng } from '../src/stress/workload.js';
import { runScenario } from './lib/child.js';
import { PEER_FAULTS, type PeerFault } from './lib/faults.js';
import { REPAIR_AGENTS, REPAIR_PLAN, REPAIR_STEPS, tokensPerCall, type RepairStep } from './lib/repair.js';
import { mean, median, percentile, round } from './lib/stats.js';
import type { RunReport } from '../src/observe/report.js';

const SCENARIO = fileURLToPath(new URL('./baseline-scenario.js', import.meta.url));
const CLI = join(PACKAGE_ROOT, 'dist/src/cli/main.js');
const HEAP = ['--max-old-space-size=128'];

interface RunOutcome {
  fixed: boolean;
  ms: number;
  attempts: number;
  tokens: number;
}

export interface BaselineRow {
  system: string;
  what_ran: string;
  fault_rate: number;
  runs: number;
  success_rate: number;
  time_to_fix_ms: { median: number | null; p95: number | null };
  attempts_mean: number | null;
  tokens_mean: number | null;
}

function timeoutOf(agent: string): number {
  const y = parse(readFileSync(join(REPAIR_AGENTS, agent, 'agent.yaml'), 'utf8')) as { timeout_ms?: number };
  return y.timeout_ms ?? 30_000;
}

async function single(faults: Partial<Record<RepairStep, PeerFault>>): Promise<RunOutcome> {
  const o = await runScenario<{ fixed: boolean; attempts: number; attemptsByStep: Record<string, number> }>(SCENARIO, ['single', JSON.stringify(faults)], { deadlineMs: 5000, nodeFlags: HEAP });
  // If the process died, count the attempts it made from its progress lines ("attempt <step> <n>").
  const made: Record<string, number> = o.result?.attemptsByStep ?? {};
  if (!o.result) for (const m of o.stderr.matchAll(/^attempt (\w+) (\d+)$/gm)) made[m[1]!] = Number(m[2]);
  const attempts = o.result?.attempts ?? Object.values(made).reduce((a, b) => a + b, 0);
  const tokens = REPAIR_STEPS.reduce((sum, s) => sum + (made[s.id] ?? 0) * tokensPerCall(s.agent), 0);
  return { fixed: o.result?.fixed === true, ms: o.ms, attempts, tokens };
}

async function perStep(faults: Partial<Record<RepairStep, PeerFault>>): Promise<RunOutcome> {
  const t0 = performance.now();
  const deps: Record<string, unknown> = {};
  let attempts = 0;
  let tokens = 0;
  for (const s of REPAIR_STEPS) {
    attempts++;
    tokens += tokensPerCall(s.agent);
    const args = ['step', s.id, JSON.stringify(deps)];
    if (faults[s.id]) args.push(faults[s.id]!);
    const o = await runScenario<{ output: unknown }>(SCENARIO, args, { deadlineMs: timeoutOf(s.agent), nodeFlags: HEAP });
    if (!o.result) return { fixed: false, ms: performance.now() - t0, attempts, tokens };
    deps[s.id] = o.result.output;
  }
  return { fixed: (deps.report as { fixed?: boolean }).fixed === true, ms: performance.now() - t0, attempts, tokens };
}

async function agentos(faults: Partial<Record<RepairStep, PeerFault>>, runsDir: string): Promise<RunOutcome> {
  const inject = Object.entries(faults).flatMap(([id, f]) => ['--inject', `${REPAIR_STEPS.find((s) => s.id === id)!.agent}:${f}@1`]);
  const t0 = performance.now();
  const res = await execa('node', [CLI, 'run', REPAIR_PLAN, '--agents', REPAIR_AGENTS, ...inject, '--json', '--quiet', '--runs-dir', runsDir], { reject: false, timeout: 120_000 });
  const ms = performance.now() - t0;
  const report = JSON.parse(res.stdout) as RunReport;
  const fixed = report.status === 'succeeded' && (report.tasks.find((t) => t.id === 'report')?.output as { fixed?: boolean } | undefined)?.fixed === true;
  return { fixed, ms, attempts: report.metrics.attempts, tokens: report.agents.reduce((s, a) => s + a.tokens, 0) };
}

function row(system: string, what: string, rate: number, outs: RunOutcome[]): BaselineRow {
  const fixedMs = outs.filter((o) => o.fixed).map((o) => o.ms);
  return {
    system,
    what_ran: what,
    fault_rate: rate,
    runs: outs.length,
    success_rate: round(outs.filter((o) => o.fixed).length / outs.length, 3)!,
    time_to_fix_ms: { median: round(median(fixedMs), 1), p95: round(percentile(fixedMs, 95), 1) },
    attempts_mean: round(mean(outs.map((o) => o.attempts)), 2),
    tokens_mean: round(mean(outs.map((o) => o.tokens)), 0),
  };
}

export async function runBaselines(opts: { runs: number; rates: number[]; log: (s: string) => void }): Promise<BaselineRow[]> {
  const runsDir = mkdtempSync(join(tmpdir(), 'agentos-bench-baselines-'));
  const rows: BaselineRow[] = [];
  try {
    for (const rate of opts.rates) {
      const rand = rng(Math.round(rate * 1000) + 7);
      const a: RunOutcome[] = [];
      const b: RunOutcome[] = [];
      const c: RunOutcome[] = [];
      for (let i = 0; i < opts.runs; i++) {
        const faults: Partial<Record<RepairStep, PeerFault>> = {};
        for (const s of REPAIR_STEPS) if (rand() < rate) faults[s.id] = PEER_FAULTS[Math.floor(rand() * PEER_FAULTS.length)]!;
        a.push(await single(faults));
        b.push(await perStep(faults));
        c.push(await agentos(faults, runsDir));
      }
      rows.push(row('single process', 'one node process runs all 5 steps; thrown errors retried in-process (3 attempts); killed at a 5 s deadline', rate, a));
      rows.push(row('process per step, no retry', 'a fresh node process per step, in order; any failed step ends the run; each step killed at its agent timeout_ms', rate, b));
      rows.push(row('AgentOS', '`agentos run examples/crash-demo/plan.yaml --agents examples/crash-demo/agents --inject AGENT:FAULT@1`: warm agent processes, retry, fallback, timeouts, quotas', rate, c));
      opts.log(`  baselines R=${rate}: success a=${rows.at(-3)!.success_rate} b=${rows.at(-2)!.success_rate} AgentOS=${rows.at(-1)!.success_rate}`);
    }
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
  return rows;
}
