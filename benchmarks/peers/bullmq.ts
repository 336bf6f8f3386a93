/**
 * BullMQ sandboxed processors (a child process per running job, forked by BullMQ) on a local
 * redis-server from Debian's packages, started on 127.0.0.1 by this file and stopped when done.
 * Skipped, with the reason recorded, when redis-server is not installed (apt-get install -y redis-server).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents, Worker } from 'bullmq';
import type { ContainmentRow, DispatchRow } from '../peers.js';
import { PEER_FAULTS, type PeerFault } from '../lib/faults.js';
import { round } from '../lib/stats.js';

const PROCESSOR = fileURLToPath(new URL('./bullmq-processor.js', import.meta.url));

export interface BullmqResult {
  skipped: string | null;
  redis_version: string | null;
  dispatch: DispatchRow[];
  containment: ContainmentRow[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ proc: ChildProcess; port: number; version: string }> {
  const port = await freePort();
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not become ready within 10 s')), 10_000);
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${out.slice(-300)}`));
    });
  });
  return { proc, port, version };
}

async function stopRedis(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(t);
}

async function withQueue<T>(port: number, name: string, concurrency: number, fn: (q: Queue, w: Worker, ev: QueueEvents) => Promise<T>): Promise<T> {
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
  const q = new Queue(name, { connection });
  const ev = new QueueEvents(name, { connection });
  await ev.waitUntilReady();
  // A string processor path makes BullMQ run each job in a sandboxed child process.
  // Heap limit of each sandbox child as AgentOS's stress agent gets (--max-old-space-size=96).
  const w = new Worker(name, PROCESSOR, { connection, concurrency, useWorkerThreads: false, autorun: true, workerForkOptions: { execArgv: ['--max-old-space-size=96'] } });
  await w.waitUntilReady();
  try {
    return await fn(q, w, ev);
  } finally {
    await w.close(true);
    await ev.close();
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
  }
}

function countCompleted(w: Worker, n: number, deadlineMs: number): Promise<{ completed: number; failed: number; timedOut: boolean }> {
  return new Promise((resolve) => {
    let completed = 0;
    let failed = 0;
    const done = (timedOut: boolean): void => {
      clearTimeout(timer);
      w.off('completed', onC);
      w.off('failed', onF);
      resolve({ completed, failed, timedOut });
    };
    const onC = (): void => {
      if (++completed >= n) done(false);
    };
    const onF = (): void => {
      failed++;
    };
    const timer = setTimeout(() => done(true), deadlineMs);
    w.on('completed', onC);
    w.on('failed', onF);
  });
}

export async function runBullmq(o: { quick: boolean; log: (s: string) => void }): Promise<BullmqResult> {
  if (spawnSync('redis-server', ['--version']).error) {
    return { skipped: 'redis-server not found: install it with `apt-get install -y redis-server` to include BullMQ', redis_version: null, dispatch: [], containment: [] };
  }
  const redis = await startRedis();
  const out: BullmqResult = { skipped: null, redis_version: redis.version, dispatch: [], containment: [] };
  try {
    const W = 2;
    const n = o.quick ? 200 : 1000;
    await withQueue(redis.port, 'bench-noop', W, async (q, w) => {
      await q.addBulk(Array.from({ length: 20 }, (_, i) => ({ name: 'warm', data: { i } })));
      await countCompleted(w, 20, 60_000);
      const wait = countCompleted(w, n, 300_000);
      const t0 = performance.now();
      await q.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'noop', data: { i }, opts: { removeOnComplete: true } })));
      const r = await wait;
      const ms = performance.now() - t0;
      out.dispatch.push({ system: 'BullMQ', what_ran: `no-op: Worker(processor file => sandboxed child processes, concurrency ${W}) on redis-server 127.0.0.1, ${n} jobs via addBulk, to the last 'completed' event`, workers: W, tasks: n, per_task_us: r.timedOut ? null : round((ms * 1000) / n, 1), throughput_per_s: r.timedOut ? null : round((n * 1000) / ms, 1), isolation: 'a child process per running job (sandboxed processor)' });
      o.log(`  dispatch BullMQ no-op: ${round((ms * 1000) / n, 1)} us/task`);
    });
    const deadlineMs = o.quick ? 3000 : 10_000;
    // --quick: dispatch only (containment needs seconds of stall per fault)
    for (const fault of o.quick ? [] : PEER_FAULTS) {
      await withQueue(redis.port, `bench-${fault}`, W, async (q, w) => {
        const batch = 20;
        const wait = countCompleted(w, batch + 1, deadlineMs);
        const t0 = performance.now();
        await q.addBulk([
          ...Array.from({ length: batch }, (_, i) => ({ name: 'noop', data: { i } })),
          { name: 'faulty', data: { fault: fault as PeerFault }, opts: { attempts: 3, backoff: { type: 'fixed', delay: 10 } } },
        ]);
        const r = await wait;
        const ms = performance.now() - t0;
        const outcome = r.timedOut ? `stalled: ${r.completed}/${batch + 1} jobs completed by the ${deadlineMs / 1000} s deadline (${r.failed} failed attempts); the faulty job never finished` : `all ${batch + 1} jobs completed in ${Math.round(ms)} ms; ${r.failed} failed attempt(s) retried (job attempts: 3)`;
        out.containment.push({ system: 'BullMQ', what_ran: `sandboxed processor (child heap --max-old-space-size=96), concurrency ${W}, ${batch} no-op jobs + 1 job committing '${fault}' on its first attempt, job opts attempts 3`, fault, outcome, completed: r.completed, of: batch + 1, ms: Math.round(ms), process_survived: true, retries: r.failed });
        o.log(`  containment BullMQ ${fault}: ${outcome}`);
      });
    }
  } catch (err) {
    out.skipped = `BullMQ run failed: ${(err as Error).message}`;
  } finally {
    await stopRedis(redis.proc);
  }
  return out;
}
