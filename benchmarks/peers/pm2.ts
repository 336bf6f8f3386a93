/**
 * PM2 7 (from npm) restarting a crashed Node process: crash -> restarted-and-ready, the peer of AgentOS's
 * crash -> retry started. PM2 runs from node_modules with a temporary PM2_HOME (its daemon, sockets and
 * logs live there), and `pm2 kill` ends its daemon in a `finally`; any pid it left is killed by pid.
 * The app (pm2-app.ts) reports `ready <pid>` on a unix socket; the clock runs from our `crash` command
 * to the replacement's `ready` (so it includes the abort and PM2 noticing it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { median } from '../stats.js';

const APP = fileURLToPath(new URL('./pm2-app.js', import.meta.url));
const PM2_BIN = join(PACKAGE_ROOT, 'node_modules/pm2/bin/pm2');

export interface Pm2CrashResult {
  skipped: string | null;
  version: string | null;
  /** crash command -> the replacement process's ready, per crash (ms). */
  crash_to_ready_ms: number[];
  median_ms: number | null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function runPm2Crash(o: { crashes: number; log: (s: string) => void }): Promise<Pm2CrashResult> {
  if (!existsSync(PM2_BIN)) return { skipped: 'pm2 is not installed (npm ci installs the devDependency)', version: null, crash_to_ready_ms: [], median_ms: null };
  const version = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'node_modules/pm2/package.json'), 'utf8')) as { version: string }).version;
  const dir = mkdtempSync(join(tmpdir(), 'agentos-pm2-'));
  const env = { ...process.env, PM2_HOME: join(dir, 'home'), PM2_BENCH_SOCK: join(dir, 'bench.sock') };
  const pm2 = (...args: string[]) => spawnSync(process.execPath, [PM2_BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  const seen = new Set<number>();
  const readyQueue: Array<(pid: number) => void> = [];
  const readyPids: number[] = [];
  let current: Socket | undefined;
  const server = createServer((s) => {
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /ready (\d+)\n/.exec(buf);
      if (!m) return;
      buf = '';
      const pid = Number(m[1]);
      seen.add(pid);
      current = s;
      const w = readyQueue.shift();
      if (w) w(pid);
      else readyPids.push(pid);
    });
    s.on('error', () => undefined);
  });
  const nextReady = (): Promise<number> => {
    const p = readyPids.shift();
    if (p !== undefined) return Promise.resolve(p);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('PM2 did not restart the app within 30 s')), 30_000);
      readyQueue.push((pid) => {
        clearTimeout(t);
        resolve(pid);
      });
    });
  };
  await new Promise<void>((resolve) => server.listen(env.PM2_BENCH_SOCK, resolve));
  const out: number[] = [];
  try {
    // min_uptime 0 and max_restarts high: every crash here is a deliberate one, restarted at once.
    const eco = join(dir, 'ecosystem.config.json');
    writeFileSync(eco, JSON.stringify({ apps: [{ name: 'agentos-bench-crash', script: APP, autorestart: true, restart_delay: 0, min_uptime: 0, max_restarts: 100_000, env: { PM2_BENCH_SOCK: env.PM2_BENCH_SOCK } }] }));
    const started = pm2('start', eco);
    if (started.status !== 0) return { skipped: `pm2 start failed: ${started.stderr.slice(-300)}`, version, crash_to_ready_ms: [], median_ms: null };
    let pid = await nextReady();
    for (let i = 0; i < o.crashes; i++) {
      // let the new process settle (PM2 counts it online), as AgentOS's benchmark waits for its spare
      await new Promise((r) => setTimeout(r, 200));
      const t0 = performance.now();
      current!.write('crash\n');
      const next = await nextReady();
      out.push(performance.now() - t0);
      if (next === pid) throw new Error('PM2 reported the crashed pid as ready');
      pid = next;
    }
    o.log(`  PM2 ${version}: crash -> restarted-and-ready median ${median(out).toFixed(1)} ms over ${out.length} crashes`);
    return { skipped: null, version, crash_to_ready_ms: out, median_ms: median(out) };
  } catch (err) {
    return { skipped: `PM2 scenario failed: ${(err as Error).message}`, version, crash_to_ready_ms: out, median_ms: out.length ? median(out) : null };
  } finally {
    const daemonPidFile = join(env.PM2_HOME, 'pm2.pid');
    const daemon = existsSync(daemonPidFile) ? Number(readFileSync(daemonPidFile, 'utf8').trim()) : NaN;
    pm2('kill');
    for (const p of [...seen, ...(Number.isFinite(daemon) ? [daemon] : [])]) if (alive(p)) process.kill(p, 'SIGKILL');
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
