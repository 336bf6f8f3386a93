/**
 * Kernel microbenchmarks (`npm run bench:kernel`): medians, measured in one run on this machine.
 *   raw_ipc_rtt_us       JSON IPC round trip to a bare node child (child_process.fork) — the floor
 *   task_rtt_us          a no-op task through the whole kernel (scheduler, queue, events, IPC) on a warm agent
 *   bare_fork_ready_ms   fork -> first message of a bare node child
 *   agent_fork_ready_ms  spawn -> ready of an agent process (execa, worker host, handler import)
 *   crash_to_retry_ms    the kernel sees the crash -> the retry attempt is dispatched (1 instance: respawn path;
 *                        2 instances: the warm spare takes it)
 *   sampler_tick_ms      one quota-sampler tick (one batched pidusage call) over 100 live agents
 *   python.*             a Python agent beside the Node one (when python3 is found): replacement spawn -> ready
 *                        of both, alternated in one kernel; the no-op task round trip through a Python agent
 *   journal.*            the run journal's cost: throughput and chain task_rtt_us, 2 no-op agents, journal on
 *                        vs off alternated in this run (./kernel-journal-cost.ts), verdict against <= 10% loss
 * Writes benchmarks/results/kernel.json. Usage: node dist/benchmarks/kernel-bench.js [--quick] [--journal-only]
 * (--journal-only: the journal figures alone, into kernel-journal.json).
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pidusage from 'pidusage';
import { DEFAULTS } from '../src/config/defaults.js';
import { AgentRegistry } from '../src/config/registry.js';
import { Kernel } from '../src/kernel/kernel.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { PYTHON3, findTool } from '../src/platform/tools.js';
import { journalCost, type JournalCost } from './kernel-journal-cost.js';
import { crashToRetry } from './lib/crash.js';
import { runPm2Crash } from './peers/pm2.js';
import { median, quantile, round } from './stats.js';

const quick = process.argv.includes('--quick');
const journalOnly = process.argv.includes('--journal-only');
const N_RTT = quick ? 500 : 3000;
const N_FORK = quick ? 8 : 25;
const N_CRASH = quick ? 6 : 20;
const N_SAMPLER_AGENTS = quick ? 20 : 100;
const BARE_CHILD = fileURLToPath(new URL('./bare-child.js', import.meta.url));
const AGENTS = join(PACKAGE_ROOT, 'benchmarks/agents');

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

async function rawIpc(): Promise<{ rtt: number; rssMb: number }> {
  const child = fork(BARE_CHILD, [], { serialization: 'json', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  const rtts: number[] = [];
  const payload = { type: 'task', requestId: 'r1', taskId: 'bench', attempt: 1, input: { n: 1 }, deps: {} };
  for (let j = 0; j < N_RTT; j++) {
    const s = performance.now();
    child.send(payload);
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    rtts.push((performance.now() - s) * 1000);
  }
  // RSS after the same number of round trips the agent serves below, once traffic settled
  await new Promise((r) => setTimeout(r, 300));
  const rssMb = (await pidusage(child.pid!)).memory / 2 ** 20;
  child.disconnect();
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { rtt: median(rtts), rssMb };
}

function newKernel(runsDir: string, concurrency = 8): Kernel {
  return new Kernel({ registry: new AgentRegistry([AGENTS]), runsDir, concurrency, maxDynamicTasks: Number.MAX_SAFE_INTEGER });
}

async function kernelTaskRtt(runsDir: string, agent = 'noop'): Promise<{ median: number; p95: number; agentRssMb: number }> {
  const k = newKernel(runsDir);
  await k.start([agent]);
  // warm-up
  for (let i = 0; i < 50; i++) await k.submit({ id: `w${i}`, agent, input: { n: i } });
  const rtts: number[] = [];
  for (let i = 0; i < N_RTT; i++) {
    const t0 = performance.now();
    const rec = await k.submit({ id: `t${i}`, agent, input: { n: i } });
    rtts.push((performance.now() - t0) * 1000);
    if (rec.state !== 'succeeded') throw new Error(`task ${rec.id} ${rec.state}`);
  }
  await new Promise((r) => setTimeout(r, 300));
  const pid = k.table.live()[0]!.pid;
  const agentRssMb = (await pidusage(pid)).memory / 2 ** 20;
  await k.shutdown();
  return { median: median(rtts), p95: quantile(rtts, 0.95), agentRssMb };
}

/** One bare fork -> ready of a plain node child (the yardstick). */
async function bareForkReady(): Promise<number> {
  const t0 = performance.now();
  const child = fork(BARE_CHILD, [], { serialization: 'json', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  const ms = performance.now() - t0;
  child.kill('SIGKILL');
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return ms;
}

/** Replace `agent`'s process in kernel `k` (SIGKILL the live one) and resolve with the replacement's spawn -> ready (ms). */
async function replacementReady(k: Kernel, agent: string): Promise<number> {
  const old = k.table.live().find((a) => a.agent === agent)!;
  const spawned = k.table.all().length;
  process.kill(old.pid, 'SIGKILL');
  return new Promise<number>((resolve) => {
    const check = (): void => {
      const next = k.table.all().slice(spawned).find((a) => a.agent === agent);
      if (next && next.ready_ms !== null) resolve(next.ready_ms);
      else setTimeout(check, 2);
    };
    check();
  });
}

/**
 * Bare fork, agent fork, and agent fork with containment off, alternated one by one so all see the same
 * machine load (a shared machine drifts by tens of ms between two separate series). The agent side is a
 * replacement process in a running kernel (its reaper already up, as on every restart): the previous
 * agent is SIGKILLed and the replacement's spawn -> ready is read from its ACB. The uncontained kernel
 * (`containment: 'off'`, process groups only) shows what the cgroup cell itself costs.
 */
async function forkReadyPairs(runsDir: string): Promise<{ bare: number[]; agent: number[]; off: number[] }> {
  const kernel = (containment: 'auto' | 'off'): Kernel => {
    const registry = new AgentRegistry([AGENTS]);
    Object.assign(registry.get('noop'), { restart: { max_restarts: 10_000, window_ms: 1_000 } });
    return new Kernel({ registry, runsDir, sampleIntervalMs: 60_000, containment });
  };
  const k = kernel('auto');
  const kOff = kernel('off');
  await k.start(['noop']);
  await kOff.start(['noop']);
  const out = { bare: [] as number[], agent: [] as number[], off: [] as number[] };
  try {
    for (let i = 0; i < N_FORK; i++) {
      out.bare.push(await bareForkReady());
      out.agent.push(await replacementReady(k, 'noop'));
      out.off.push(await replacementReady(kOff, 'noop'));
    }
  } finally {
    await k.shutdown();
    await kOff.shutdown();
  }
  return out;
}

/**
 * Node and Python agents side by side in one kernel: replacement spawn -> ready (alternated, as above)
 * for `noop` and its Python twin `py_noop`.
 */
async function nodeVsPythonReady(runsDir: string): Promise<{ node: number[]; python: number[] }> {
  const registry = new AgentRegistry([AGENTS]);
  for (const a of ['noop', 'py_noop']) Object.assign(registry.get(a), { restart: { max_restarts: 10_000, window_ms: 1_000 } });
  const k = new Kernel({ registry, runsDir, sampleIntervalMs: 60_000 });
  await k.start(['noop', 'py_noop']);
  const out = { node: [] as number[], python: [] as number[] };
  for (let i = 0; i < N_FORK; i++) {
    for (const [agent, into] of [['noop', out.node], ['py_noop', out.python]] as const) {
      const old = k.table.live().find((a) => a.agent === agent)!;
      const spawned = k.table.all().length;
      process.kill(old.pid, 'SIGKILL');
      await new Promise<void>((resolve) => {
        const check = (): void => {
          const next = k.table.all().slice(spawned).find((a) => a.agent === agent);
          if (next && next.ready_ms !== null) {
            into.push(next.ready_ms);
            resolve();
          } else setTimeout(check, 2);
        };
        check();
      });
    }
  }
  await k.shutdown();
  return out;
}

async function samplerTick(runsDir: string): Promise<{ agents: number; tick_ms: number }> {
  const registry = new AgentRegistry([AGENTS]);
  Object.assign(registry.get('noop'), { instances: N_SAMPLER_AGENTS });
  const k = new Kernel({ registry, runsDir, sampleIntervalMs: 60_000 });
  await k.start(['noop']);
  const sampler = k.runner.sampler as unknown as { tick(): Promise<void>; busyMs: number; ticks: number };
  await sampler.tick(); // first tick opens the /proc handles
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await sampler.tick();
    times.push(performance.now() - t0);
  }
  const agents = k.table.live().length;
  await k.shutdown();
  return { agents, tick_ms: median(times) };
}

/** The journal's cost at the default concurrency, then at 16 (fsyncs overlapped by more slots than agents). */
async function measureJournal(runsDir: string): Promise<JournalCost[]> {
  log('journal cost: throughput and chain round trip, journal on vs off (alternated)...');
  const out: JournalCost[] = [];
  for (const concurrency of [DEFAULTS.concurrency, 16]) {
    const j = await journalCost(AGENTS, runsDir, { tasks: quick ? 500 : 2000, chain: quick ? 200 : 500, rounds: quick ? 2 : 4, concurrency, log });
    log(`journal at concurrency ${concurrency}: ${j.ratios.throughput_loss_pct}% throughput loss (goal <= ${j.goal.max_throughput_loss_pct}%: ${j.goal.met ? 'met' : 'MISSED'}), chain step x${j.ratios.task_rtt_on_vs_off}; window 0: throughput x${j.ratios.throughput_window_0_vs_off}, chain step x${j.ratios.task_rtt_window_0_vs_off}`);
    out.push(j);
  }
  return out;
}

async function main(): Promise<void> {
  const runsDir = mkdtempSync(join(tmpdir(), 'agentos-bench-'));
  try {
    if (journalOnly) {
      const journal = { measured_at: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version }, quick, journal: await measureJournal(runsDir) };
      writeFileSync(join(PACKAGE_ROOT, 'benchmarks/results', 'kernel-journal.json'), `${JSON.stringify(journal, null, 2)}\n`);
      process.stdout.write(`${JSON.stringify(journal, null, 2)}\n`);
      return;
    }
    log(`kernel bench${quick ? ' (quick)' : ''}: raw IPC and bare fork...`);
    const raw = await rawIpc();
    log('task round trip through the kernel...');
    const task = await kernelTaskRtt(runsDir);
    log('bare fork -> ready and agent fork -> ready, alternated...');
    const forks = await forkReadyPairs(runsDir);
    const agentReady = forks.agent;
    log('crash -> retry (respawn path, a second instance, a standby spare), then PM2 restarting a crashed app...');
    const crash1 = (await crashToRetry(runsDir, { instances: 1, standby: 0, crashes: N_CRASH })).exit_to_retry;
    const crash2 = (await crashToRetry(runsDir, { instances: 2, standby: 0, crashes: N_CRASH })).exit_to_retry;
    const crashSb = await crashToRetry(runsDir, { instances: 1, standby: 1, crashes: N_CRASH });
    const pm2 = await runPm2Crash({ crashes: N_CRASH, log });
    const python = findTool(PYTHON3).path;
    let py: { ready: { node: number[]; python: number[] }; rtt: { median: number; p95: number } } | undefined;
    if (python) {
      log('Python agent beside Node: spawn -> ready (alternated), task round trip...');
      const ready = await nodeVsPythonReady(runsDir);
      const rtt = await kernelTaskRtt(runsDir, 'py_noop');
      py = { ready, rtt };
    } else log('python3 not found: Python figures skipped');
    log(`quota sampler over ${N_SAMPLER_AGENTS} agents...`);
    const sampler = await samplerTick(runsDir);
    const journal = await measureJournal(runsDir);
    const result = {
      measured_at: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
      quick,
      samples: { rtt: N_RTT, fork: N_FORK, crash: N_CRASH },
      raw_ipc_rtt_us: round(raw.rtt),
      task_rtt_us: round(task.median),
      task_rtt_p95_us: round(task.p95),
      bare_fork_ready_ms: round(median(forks.bare)),
      agent_fork_ready_ms: round(median(agentReady)),
      crash_to_retry_ms: round(median(crash1)),
      crash_to_retry_spare_ms: round(median(crash2)),
      // agent.yaml standby: 1 (instances 1): from the kernel seeing the exit, and from the crashing attempt's start
      crash_to_retry_standby_ms: round(median(crashSb.exit_to_retry), 2),
      crash_start_to_retry_standby_ms: round(median(crashSb.start_to_retry), 2),
      pm2: { version: pm2.version, skipped: pm2.skipped, crash_to_ready_ms: pm2.median_ms === null ? null : round(pm2.median_ms), samples: pm2.crash_to_ready_ms.length },
      agent_fork_ready_uncontained_ms: round(median(forks.off)),
      sampler_tick_ms: round(sampler.tick_ms, 2),
      sampler_agents: sampler.agents,
      python: py
        ? {
            interpreter: findTool(PYTHON3).path,
            node_agent_ready_ms: round(median(py.ready.node)),
            python_agent_ready_ms: round(median(py.ready.python)),
            python_task_rtt_us: round(py.rtt.median),
            python_task_rtt_p95_us: round(py.rtt.p95),
            ratios: { python_vs_node_ready: round(median(py.ready.python) / median(py.ready.node), 2), python_vs_node_task_rtt: round(py.rtt.median / task.median, 2) },
            targets: { python_vs_node_ready: 0.5, python_vs_node_task_rtt: 1.2 },
          }
        : null,
      journal,
      bare_child_rss_mb: round(raw.rssMb),
      agent_rss_mb: round(task.agentRssMb),
      ratios: {
        task_vs_raw_ipc: round(task.median / raw.rtt, 2),
        agent_vs_bare_fork: round(median(agentReady) / median(forks.bare), 2),
        agent_uncontained_vs_bare_fork: round(median(forks.off) / median(forks.bare), 2),
        standby_retry_vs_pm2_restart: pm2.median_ms ? round(median(crashSb.start_to_retry) / pm2.median_ms, 3) : null,
        crash_retry_vs_agent_fork: round(median(crash1) / median(agentReady), 2),
        agent_vs_bare_rss: round(task.agentRssMb / raw.rssMb, 2),
      },
      targets: { task_vs_raw_ipc: 2, agent_vs_bare_fork: 1.15, crash_retry_vs_agent_fork: 1.2 },
    };
    const outDir = join(PACKAGE_ROOT, 'benchmarks/results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, quick ? 'kernel-quick.json' : 'kernel.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
}

await main();
