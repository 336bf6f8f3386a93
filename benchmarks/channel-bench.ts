/**
 * `npm run bench:channel` -> benchmarks/results/channel.json. Every figure is measured here, in one run.
 *
 *  1. Echo through the fd-3 channel (src/protocol/channel.ts <-> worker/channel.ts) vs Node's built-in IPC
 *     ('ipc' stdio + process.send, json serialization) vs a Python child (SDK framing): messages/s
 *     pipelined (N sent at once) and round trip in µs (one at a time).
 *  2. Syscall round trip as a handler sees it: a Node fd-3 agent and the Python SDK (blocking call, reader
 *     thread) each make n sequential calls that the parent answers at once.
 *  3. Flood: a child writes 250k / 500k / 1M small frames (linear: time per frame stays flat; kernel RSS
 *     growth stays bounded), and 1M garbage lines (one violation, reading stops, the child is gone).
 *  4. Start-up: spawn -> `ready` for /usr/bin/python3, `python3` on PATH (maybe a pyenv shim) and node.
 * Usage: node dist/benchmarks/channel-bench.js [--quick]
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { KernelChannel, type ChannelMessage } from '../src/protocol/channel.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { median, quantile, round } from './stats.js';

const quick = process.argv.includes('--quick');
const N_PIPE = quick ? 20_000 : 100_000;
const N_RTT = quick ? 1000 : 5000;
const N_START = quick ? 5 : 15;
const FLOODS = quick ? [100_000, 200_000] : [250_000, 500_000, 1_000_000];
const PAD = 'x'.repeat(100);
const ECHO_CHILD = fileURLToPath(new URL('./channel-echo-child.js', import.meta.url));
const IPC_CHILD = fileURLToPath(new URL('./bare-child.js', import.meta.url));
const SDK = join(PACKAGE_ROOT, 'sdk/python');
const PY_DIR = join(PACKAGE_ROOT, 'benchmarks/python');

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

/** One child with a message stream, fd-3 channel or Node IPC. */
interface Peer {
  pid: number;
  send(m: object): void;
  onMessage: (m: Record<string, unknown>) => void;
  ready: Promise<number>; // ms from spawn to the first message
  channel?: KernelChannel;
  violations: string[];
  exited: Promise<void>;
  kill(): void;
}

function track(child: ChildProcess, peer: Omit<Peer, 'exited' | 'kill' | 'pid'>): Peer {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Mutate, not copy: the message callbacks above look up peer.onMessage on this very object.
  return Object.assign(peer, {
    pid: child.pid!,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    },
  });
}

function fd3Peer(command: string, args: string[], env: Record<string, string> = {}): Peer {
  const t0 = performance.now();
  const child = spawn(command, args, {
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
    detached: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', AGENTOS_CHANNEL_FD: '3', AGENTOS_PROTOCOL: '1', ...env },
  });
  let readyResolve: (ms: number) => void = () => {};
  const ready = new Promise<number>((r) => (readyResolve = r));
  const violations: string[] = [];
  const peer = {
    send: (m: object) => void channel.send(m),
    onMessage: (_m: Record<string, unknown>) => {},
    ready,
    violations,
  } as Omit<Peer, 'exited' | 'kill' | 'pid'>;
  const channel = new KernelChannel(child.stdio[3] as Duplex, {
    onMessage: (m: ChannelMessage) => (m.type === 'ready' ? readyResolve(performance.now() - t0) : peer.onMessage(m)),
    onViolation: (r) => violations.push(r),
  });
  peer.channel = channel;
  return track(child, peer);
}

function ipcPeer(): Peer {
  const t0 = performance.now();
  // Same minimal environment as the fd-3 children (an inherited NODE_EXTRA_CA_CERTS alone costs ~100+ ms per start).
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  const child = fork(IPC_CHILD, [], { serialization: 'json', stdio: ['ignore', 'ignore', 'inherit', 'ipc'], detached: true, env });
  let readyResolve: (ms: number) => void = () => {};
  const ready = new Promise<number>((r) => (readyResolve = r));
  let first = true;
  const peer = { send: (m: object) => void child.send(m), onMessage: (_m: Record<string, unknown>) => {}, ready, violations: [] as string[] };
  child.on('message', (m: Record<string, unknown>) => {
    if (first) {
      first = false;
      readyResolve(performance.now() - t0);
    } else peer.onMessage(m);
  });
  return track(child, peer);
}

async function pipelined(peer: Peer, n: number): Promise<number> {
  let got = 0;
  const t0 = performance.now();
  const done = new Promise<void>((resolve) => {
    peer.onMessage = () => {
      if (++got === n) resolve();
    };
  });
  for (let i = 0; i < n; i++) peer.send({ type: 'echo', i, pad: PAD });
  await done;
  return Math.round(n / ((performance.now() - t0) / 1000));
}

async function roundTrips(peer: Peer, n: number): Promise<{ p50_us: number; p99_us: number }> {
  const rtts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await new Promise<void>((resolve) => {
      peer.onMessage = () => resolve();
      peer.send({ type: 'echo', i, pad: PAD });
    });
    rtts.push((performance.now() - t) * 1000);
  }
  return { p50_us: round(median(rtts)), p99_us: round(quantile(rtts, 0.99)) };
}

/** n sequential syscalls answered at once; µs per call as the handler sees it. */
async function syscallRtt(peer: Peer, n: number): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    peer.onMessage = (m) => {
      if (m.type === 'call') peer.send({ type: 'reply', callId: m.callId, ok: true, value: null });
      else if (m.type === 'result') resolve();
    };
    peer.send({ type: 'task', requestId: 'r1', taskId: 't1', attempt: 1, key: 'k', input: { n }, deps: {} });
  });
  return round(((performance.now() - t0) * 1000) / n);
}

async function flood(n: number, garbage: boolean): Promise<Record<string, number>> {
  const peer = fd3Peer(process.execPath, [ECHO_CHILD]);
  await peer.ready;
  const rss0 = process.memoryUsage().rss;
  let frames = 0;
  let rssPeak = rss0;
  const t0 = performance.now();
  if (!garbage) {
    await new Promise<void>((resolve) => {
      peer.onMessage = (m) => {
        frames++;
        if ((frames & 0xffff) === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        if (m.type === 'flood_done') resolve();
      };
      peer.send({ type: 'flood', n });
    });
    const ms = performance.now() - t0;
    peer.kill();
    await peer.exited;
    if (frames !== n + 1) throw new Error(`flood: ${frames - 1} of ${n} frames`);
    return { frames: n, ms: round(ms), frames_per_s: Math.round(n / (ms / 1000)), ns_per_frame: round((ms * 1e6) / n), kernel_rss_growth_mb: round((rssPeak - rss0) / 2 ** 20) };
  }
  peer.send({ type: 'flood', n, garbage: true });
  while (peer.violations.length === 0) await new Promise((r) => setImmediate(r));
  const toViolation = performance.now() - t0;
  const bytesRead = peer.channel!.stats.bytesIn;
  await peer.exited; // the agent's next write hits EPIPE: it leaves by itself
  return { garbage_lines: n, ms_to_violation: round(toViolation, 2), ms_to_child_gone: round(performance.now() - t0), bytes_read: bytesRead, bytes_offered: n * 24, violations: peer.violations.length };
}

async function startup(make: () => Peer): Promise<{ median_ms: number; p90_ms: number }> {
  const xs: number[] = [];
  for (let i = 0; i < N_START; i++) {
    const p = make();
    xs.push(await p.ready);
    p.kill();
    await p.exited;
  }
  return { median_ms: round(median(xs)), p90_ms: round(quantile(xs, 0.9)) };
}

async function main(): Promise<void> {
  const pyEnv = { PYTHONPATH: SDK };
  const pyPath = 'python3';
  const pyUsr = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : pyPath;
  const result: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, quick };

  log('1. echo: fd-3 channel vs Node IPC vs Python');
  const echo: Record<string, unknown> = {};
  for (const [name, make] of [
    ['node_fd3', () => fd3Peer(process.execPath, [ECHO_CHILD])],
    ['node_ipc', ipcPeer],
    ['python_fd3', () => fd3Peer(pyUsr, [join(PY_DIR, 'echo.py')], pyEnv)],
  ] as const) {
    const peer = make();
    await peer.ready;
    await roundTrips(peer, 500); // warm-up (JIT, page cache): not measured
    const msgs = await pipelined(peer, N_PIPE);
    const rtt = await roundTrips(peer, N_RTT);
    echo[name] = { pipelined_msgs_per_s: msgs, rtt_us: rtt };
    log(`   ${name}: ${msgs} msg/s pipelined, rtt p50 ${rtt.p50_us} µs p99 ${rtt.p99_us} µs`);
    peer.kill();
    await peer.exited;
  }
  result.echo = echo;

  log('2. syscall round trip as a handler sees it');
  const node = fd3Peer(process.execPath, [ECHO_CHILD]);
  await node.ready;
  const py = fd3Peer(pyUsr, [join(SDK, 'agentos_host.py')], { AGENTOS_HANDLER: join(PY_DIR, 'rtt_handler.py') });
  await py.ready;
  await syscallRtt(node, 500); // warm-up: not measured
  await syscallRtt(py, 500);
  result.syscall_rtt_us = { node_fd3: await syscallRtt(node, N_RTT), python_sdk: await syscallRtt(py, N_RTT) };
  log(`   ${JSON.stringify(result.syscall_rtt_us)}`);
  for (const p of [node, py]) p.kill();
  await Promise.all([node.exited, py.exited]);

  log('3. flood');
  const floods: Record<string, unknown> = {};
  for (const n of FLOODS) {
    floods[`valid_${n}`] = await flood(n, false);
    log(`   valid ${n}: ${JSON.stringify(floods[`valid_${n}`])}`);
  }
  const g = FLOODS[FLOODS.length - 1]!;
  floods[`garbage_${g}`] = await flood(g, true);
  log(`   garbage ${g}: ${JSON.stringify(floods[`garbage_${g}`])}`);
  result.flood = floods;

  log('4. start-up: spawn -> ready');
  const handlerEnv = { AGENTOS_HANDLER: join(PY_DIR, 'noop_handler.py') };
  const host = join(SDK, 'agentos_host.py');
  result.startup = {
    python_usr_bin: { interpreter: pyUsr, ...(await startup(() => fd3Peer(pyUsr, [host], handlerEnv))) },
    python3_on_path: { interpreter: pyPath, ...(await startup(() => fd3Peer(pyPath, [host], handlerEnv))) },
    node_fd3_worker: await startup(() => fd3Peer(process.execPath, [ECHO_CHILD])),
    node_ipc_bare: await startup(ipcPeer),
  };
  log(`   ${JSON.stringify(result.startup)}`);

  const out = join(PACKAGE_ROOT, 'benchmarks/results', quick ? 'channel-quick.json' : 'channel.json');
  mkdirSync(join(PACKAGE_ROOT, 'benchmarks/results'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${out}`);
}

await main();
