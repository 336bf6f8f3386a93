/**
 * Piscina scenarios, each run in its own process by benchmarks/peers/piscina.ts:
 *   dispatch <threads> <tasks> <cpu_ms>   throughput: every task submitted at once to a warm pool
 *   serial <tasks>                        one task at a time on one thread: round trip per task
 *   fault <fault> <abort_ms>              20 no-op tasks and one faulting task on 2 threads
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { emitResult } from '../lib/child.js';
import type { PeerFault } from '../lib/faults.js';

const filename = fileURLToPath(new URL('./piscina-worker.js', import.meta.url));
const [mode, a, b, c] = process.argv.slice(2);

async function warm(pool: Piscina, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => pool.run({})));
}

if (mode === 'dispatch') {
  const threads = Number(a);
  const tasks = Number(b);
  const cpuMs = Number(c);
  const pool = new Piscina({ filename, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  await warm(pool, threads * 50);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: tasks }, () => pool.run({ cpu_ms: cpuMs })));
  const ms = performance.now() - t0;
  await pool.destroy();
  emitResult({ threads, tasks, cpu_ms: cpuMs, ms, per_task_us: (ms * 1000) / tasks, throughput_per_s: (tasks * 1000) / ms });
} else if (mode === 'serial') {
  const tasks = Number(a);
  const pool = new Piscina({ filename, minThreads: 1, maxThreads: 1 });
  await warm(pool, 50);
  const t0 = performance.now();
  for (let i = 0; i < tasks; i++) await pool.run({});
  const ms = performance.now() - t0;
  await pool.destroy();
  emitResult({ tasks, rtt_us: (ms * 1000) / tasks });
} else if (mode === 'fault') {
  const fault = a as PeerFault;
  const abortMs = Number(b);
  // The heap limit of a worker thread, as AgentOS's stress agent gets --max-old-space-size=96.
  const pool = new Piscina({ filename, minThreads: 2, maxThreads: 2, resourceLimits: { maxOldGenerationSizeMb: 96 } });
  await warm(pool, 10);
  const t0 = performance.now();
  const signal = abortMs > 0 ? AbortSignal.timeout(abortMs) : undefined;
  const faulty = pool.run({ fault }, signal ? { signal } : {}).then(
    () => ({ ok: true as const, ms: performance.now() - t0 }),
    (err: Error) => ({ ok: false as const, error: `${err.name}: ${err.message}`.slice(0, 160), ms: performance.now() - t0 }),
  );
  const others = await Promise.allSettled(Array.from({ length: 20 }, () => pool.run({})));
  process.stderr.write(`others settled: ${others.filter((o) => o.status === 'fulfilled').length}/20\n`);
  const faultyOutcome = await faulty;
  // Does the pool still serve work after the fault?
  const after = await Promise.race([pool.run({}).then(() => 'served', (e: Error) => `rejected: ${e.message}`), new Promise((r) => setTimeout(() => r('no answer within 5 s'), 5000))]);
  emitResult({ fault, abort_ms: abortMs, others_ok: others.filter((o) => o.status === 'fulfilled').length, faulty: faultyOutcome, after });
  await pool.destroy();
}
