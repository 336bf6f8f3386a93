/**
 * One stress run: N warm stress_worker processes, M tasks through the real kernel (scheduler, pools,
 * retries, quota sampler, reaper), faults committed inside the children, and every figure of the report
 * measured from the kernel's events or from /proc.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { AgentRegistry } from '../config/registry.js';
import { Kernel } from '../kernel/kernel.js';
import { percentile } from '../observe/metrics.js';
import type { RunReport } from '../observe/report.js';
import { BUILTIN_AGENTS } from '../paths.js';
import type { StressOptions } from './options.js';
import { bareNodeChildRssMb, cpuSeconds, pidAlive, pidsOfRun } from './probes.js';
import { ProgressMeter } from './progress.js';
import { writeJsonFile, type StressReport } from './report.js';
import { buildWorkload } from './workload.js';

export const STRESS_AGENT = 'stress_worker';

/**
 * Global slots per agent process. An attempt keeps its slot until its result is durable (fsync), while
 * its process is already free: with one slot per agent every process idled for an fsync after each task
 * (2 agents x 20,000 no-op tasks, load 11-14: 386 -> 954 tasks/s, kernel CPU 483 -> 305 us per task).
 * Still one task at a time per process; a kill loses at most 4 results per agent (docs/durability.md).
 */
export const STRESS_SLOTS_PER_AGENT = 4;

const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;

/**
 * The stress agent's spec for this run, written into the run directory so the run records what ran.
 * The restart window admits one restart per faulted task: the circuit breaker guards against crash
 * loops, and a stress run's faults are deliberate, one per task at most.
 */
function writeAgentSpec(dir: string, o: StressOptions): string {
  const file = join(dir, STRESS_AGENT, 'agent.yaml');
  mkdirSync(join(dir, STRESS_AGENT), { recursive: true });
  const spec = {
    name: STRESS_AGENT,
    role: 'agentos stress load',
    handler: join(BUILTIN_AGENTS, STRESS_AGENT, 'handler.js'),
    instances: o.agents,
    timeout_ms: o.timeoutMs,
    memory_mb: o.memoryMb,
    retry: { max_attempts: o.maxAttempts, backoff_ms: 10, max_backoff_ms: 100 },
    restart: { max_restarts: o.tasks + o.agents, window_ms: 10_000 },
    ready_timeout_ms: 30_000,
    kill_grace_ms: 100,
  };
  writeFileSync(file, `# written by agentos stress (JSON is YAML)\n${JSON.stringify(spec, null, 2)}\n`);
  return file;
}

export interface StressHooks {
  /** Progress output; none: silent. */
  progress?: ((text: string, final: boolean) => void) | undefined;
  /** The kernel, once made (signal handlers interrupt it). */
  onKernel?: ((kernel: Kernel) => void) | undefined;
}

export async function runStress(o: StressOptions, hooks: StressHooks = {}): Promise<{ report: StressReport; run: RunReport; kernel: Kernel }> {
  const bare = await bareNodeChildRssMb();
  const runId = randomBytes(3).toString('hex');
  const runDir = join(o.runsDir, runId);
  const registry = new AgentRegistry([BUILTIN_AGENTS]);
  registry.addFile(STRESS_AGENT, writeAgentSpec(runDir, o));
  const { plan, injections } = buildWorkload({ tasks: o.tasks, agent: STRESS_AGENT, cpuMs: o.cpuMs, waitMs: o.waitMs, cpuShare: o.cpuShare, faultRate: o.faultRate, faults: o.faults, seed: o.seed });
  const kernel = new Kernel({ registry, runsDir: o.runsDir, runId, concurrency: STRESS_SLOTS_PER_AGENT * o.agents, taskInjections: injections, sampleIntervalMs: o.sampleMs });
  hooks.onKernel?.(kernel);

  // ---- measurements taken from the kernel's own events ----
  let runStartT: number | undefined;
  let allReadyT: number | undefined;
  const readySlots = new Set<number>();
  let agentsTotalPeak = 0;
  let firstRunT: number | undefined;
  // The kernel's own CPU over the dispatch phase (first task running -> last task final): start-up,
  // spawning and the report are left out, so it is the per-task cost (docs/benchmarks.md).
  let phaseCpu0: NodeJS.CpuUsage | undefined;
  let phaseCpu: NodeJS.CpuUsage | undefined;
  void kernel.scheduler.done.then(() => (phaseCpu = phaseCpu0 ? process.cpuUsage(phaseCpu0) : undefined));
  let lastEndT = 0;
  const meter = new ProgressMeter(o.tasks);
  const off = kernel.events.on((e) => {
    switch (e.type) {
      case 'run.started':
        runStartT = e.t;
        break;
      case 'process.ready':
        readySlots.add(e.instance);
        if (allReadyT === undefined && readySlots.size === o.agents) allReadyT = e.t;
        break;
      case 'quota.sample': {
        let sum = 0;
        for (const s of e.samples) sum += s.rss_mb;
        if (sum > agentsTotalPeak) agentsTotalPeak = sum;
        break;
      }
      case 'task.state':
        if (e.state === 'running' && firstRunT === undefined) {
          firstRunT = e.t;
          phaseCpu0 = process.cpuUsage();
        }
        else if (e.state === 'succeeded' || e.state === 'failed' || e.state === 'skipped') lastEndT = Math.max(lastEndT, e.t);
        break;
      default:
        break;
    }
    meter.count(e);
  });
  let kernelPeak = process.memoryUsage.rss();
  const rssTimer = setInterval(() => (kernelPeak = Math.max(kernelPeak, process.memoryUsage.rss())), 100);
  const progressTimer = hooks.progress ? setInterval(() => hooks.progress!(meter.line(kernel.events.now()), false), 1000) : undefined;

  const cpu0 = cpuSeconds();
  let run: RunReport;
  try {
    run = await kernel.run(plan);
  } finally {
    clearInterval(rssTimer);
    clearInterval(progressTimer);
    off();
  }
  const cpu1 = cpuSeconds();
  kernelPeak = Math.max(kernelPeak, process.memoryUsage.rss());
  hooks.progress?.(meter.line(kernel.events.now()), true);

  // Orphans: every pid the run started, plus anything on the machine that still names the run.
  const pids = new Set<number>([...run.processes.map((p) => p.pid), ...pidsOfRun(runId)]);
  const orphanPids = [...pids].filter(pidAlive);

  const latencies = run.tasks.map((t) => t.duration_ms).filter((d): d is number => d !== null).sort((a, b) => a - b);
  const peaks = run.processes.map((p) => p.peak_rss_mb).filter((r) => r > 0).sort((a, b) => a - b);
  const perAgentMedian = percentile(peaks, 50);
  const m = run.metrics;
  const phaseMs = firstRunT !== undefined ? lastEndT - firstRunT : 0;
  const agentsCpu = cpu1.children - cpu0.children;
  const kernelCpu = cpu1.self - cpu0.self;
  const report: StressReport = {
    agents: o.agents,
    tasks: o.tasks,
    succeeded: m.tasks.succeeded ?? 0,
    failed: (m.tasks.failed ?? 0) + (m.tasks.skipped ?? 0),
    restarts: m.restarts,
    faults_injected: m.faults_injected,
    latency_ms: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? null },
    throughput_per_s: phaseMs > 0 ? round(((m.tasks.succeeded ?? 0) * 1000) / phaseMs) : 0,
    spawn_all_ready_ms: allReadyT !== undefined && runStartT !== undefined ? round(allReadyT - runStartT) : null,
    peak_rss_mb: { kernel: round(kernelPeak / 1024 / 1024), agents_total: round(agentsTotalPeak), per_agent_median: perAgentMedian },
    cpu_seconds: round(kernelCpu + agentsCpu, 2),
    orphans: orphanPids.length,
    fault_rate: o.faultRate,
    faults: [...o.faults],
    failures_by_kind: m.failures_by_kind,
    retries: m.retries,
    attempts: m.attempts,
    duration_ms: run.duration_ms,
    cpu_seconds_detail: { kernel: round(kernelCpu, 2), agents: round(agentsCpu, 2) },
    kernel_cpu_us_per_task: phaseCpu && m.attempts > 0 ? round((phaseCpu.user + phaseCpu.system) / m.attempts, 1) : null,
    bare_node_child_rss_mb: bare,
    per_agent_rss_vs_bare: perAgentMedian !== null && bare > 0 ? round(perAgentMedian / bare, 3) : null,
    orphan_pids: orphanPids,
    workload: { cpu_ms: o.cpuMs, wait_ms: o.waitMs, cpu_share: o.cpuShare, timeout_ms: o.timeoutMs, max_attempts: o.maxAttempts, memory_mb: o.memoryMb, seed: o.seed },
    run_id: run.run_id,
    run_dir: run.run_dir,
    machine: { node: process.version, cores: availableParallelism(), platform: process.platform },
  };
  writeJsonFile(join(run.run_dir, 'stress.json'), report);
  return { report, run, kernel };
}
