/**
 * A real redis-server for the cluster tests: started on a free port on 127.0.0.1 with its own data
 * directory, ready when it answers PING, stopped by pid (SIGTERM, then SIGKILL), restartable on the same
 * port and directory (its append-only file then brings the data back).
 *
 *   const REDIS = redisServerPath();                 // path, or undefined (notice printed)
 *   describe.skipIf(!REDIS)('…', () => { … });
 *   const r = await startRedis({ password: 's3cret' });
 *   … r.url …
 *   await r.restart('SIGTERM');
 *   afterAll(stopAllRedis);
 *
 * Absent redis-server skips with a notice; AGENTOS_REQUIRE_OPTIONAL (see ../optional.ts) makes it a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS_SERVER } from '../../src/platform/tools.js';
import { optionalTool } from '../optional.js';

let cachedPath: string | undefined | null = null;

/** Absolute path of redis-server, or undefined after printing a skip notice (throws when required). */
export function redisServerPath(): string | undefined {
  if (cachedPath === null) cachedPath = optionalTool(REDIS_SERVER);
  return cachedPath;
}

export interface RedisOptions {
  /** `requirepass`: the default user needs this password. */
  password?: string;
  /** An ACL user with every right: `{ name, password }`. */
  user?: { name: string; password: string };
  /** `appendonly yes` unless false. */
  appendonly?: boolean;
  /** Bind address: 127.0.0.1 unless a test runs Redis inside a namespace it created. */
  bind?: string;
  /** Port; a free one on `bind` by default (a namespace's own port space needs one given). */
  port?: number;
  /** Run the server through this command prefix (e.g. `ip netns exec NS`). */
  wrap?: string[];
  /** Readiness probe where this process cannot reach the server (inside a namespace): true once it answers. */
  ready?: () => Promise<boolean>;
}

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  /** redis://[:password@]host:port */
  readonly url: string;
  /** pid of the running server; changes on restart. */
  pid(): number;
  /** Stop with `signal` (SIGTERM: AOF flushed; SIGKILL: as a crash), wait until the pid is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stop, then start again on the same port with the same directory; resolves when it answers PING. */
  restart(signal?: NodeJS.Signals): Promise<void>;
  /** Stop and remove its directory. */
  destroy(): Promise<void>;
}

const live = new Set<RedisServer>();

/** Stop every server started here and remove their directories (for afterAll). */
export async function stopAllRedis(): Promise<void> {
  await Promise.all([...live].map((r) => r.destroy()));
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Start a redis-server; resolves when it answers PING. Throws when redis-server is absent. */
export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  const bin = redisServerPath();
  if (!bin) throw new Error('redis-server is not installed');
  const host = opts.bind ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const dir = mkdtempSync(join(tmpdir(), 'agentos-redis-'));
  // An ACL user goes in a config file: on the command line Redis would split its rule at the spaces.
  const conf = join(dir, 'redis.conf');
  writeFileSync(conf, opts.user ? `user ${opts.user.name} on >${opts.user.password} ~* &* +@all\n` : '', { mode: 0o600 });
  const args = [conf, '--port', String(port), '--bind', host, '--dir', dir, '--save', '', '--appendonly', opts.appendonly === false ? 'no' : 'yes', '--appendfsync', 'everysec', '--daemonize', 'no', '--protected-mode', 'no', '--logfile', ''];
  if (opts.password) args.push('--requirepass', opts.password);
  const auth = opts.user ? `${encodeURIComponent(opts.user.name)}:${encodeURIComponent(opts.user.password)}@` : opts.password ? `:${encodeURIComponent(opts.password)}@` : '';
  const authCmd = opts.user ? ['AUTH', opts.user.name, opts.user.password] : opts.password ? ['AUTH', opts.password] : null;
  let proc: ChildProcess | null = null;
  let log = '';

  const launch = async (): Promise<void> => {
    const [cmd, ...pre] = opts.wrap ? [...opts.wrap, bin] : [bin];
    // No environment: Redis needs none, and secrets never reach a child.
    const p = spawn(cmd!, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    proc = p;
    const keep = (c: Buffer): void => {
      log = (log + c.toString()).slice(-4000);
    };
    p.stdout!.on('data', keep);
    p.stderr!.on('data', keep);
    const exited = new Promise<never>((_, reject) => p.once('exit', (code, sig) => reject(new Error(`redis-server exited (${code ?? sig}) before it answered PING:\n${log.slice(-1500)}`))));
    exited.catch(() => undefined);
    const probe = opts.ready;
    await Promise.race([probe ? poll(probe, 15_000, `redis-server on ${host}:${port}`) : waitForPing(host, port, authCmd, 15_000), exited]);
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    // SIGTERM makes Redis flush its AOF and exit; if it hangs, SIGKILL (by this pid only).
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  };

  await launch();
  const server: RedisServer = {
    host,
    port,
    dir,
    url: `redis://${auth}${host}:${port}`,
    pid: () => proc?.pid ?? -1,
    stop,
    restart: async (signal = 'SIGTERM') => {
      await stop(signal);
      await launch();
    },
    destroy: async () => {
      await stop('SIGTERM');
      live.delete(server);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(server);
  return server;
}

/**
 * Poll the port until Redis answers PING with PONG (it answers LOADING while it reads its AOF back).
 * Each poll is one short TCP exchange; polls are 20 ms apart.
 */
export async function waitForPing(host: string, port: number, auth: string[] | null, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    last = await pingOnce(host, port, auth).catch((err: Error) => err.message);
    if (last === 'PONG') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`redis on ${host}:${port} did not answer PING within ${timeoutMs} ms (last: ${last})`);
}

async function poll(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await probe())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function resp(parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
}

function pingOnce(host: string, port: number, auth: string[] | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host, port });
    let buf = '';
    const done = (v: string | Error): void => {
      sock.destroy();
      if (v instanceof Error) reject(v);
      else resolve(v);
    };
    sock.setTimeout(1000, () => done(new Error('timeout')));
    sock.once('error', done);
    sock.once('connect', () => sock.write((auth ? resp(auth) : '') + resp(['PING'])));
    sock.on('data', (c) => {
      buf += c.toString();
      const lines = buf.split('\r\n').filter((l) => l !== '');
      if (lines.length < (auth ? 2 : 1)) return;
      const reply = lines[lines.length - 1]!;
      done(reply === '+PONG' ? 'PONG' : reply);
    });
  });
}
