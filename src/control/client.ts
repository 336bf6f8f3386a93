/** Ask every kernel in the runtime directory for its process table (what `agentos ps` and `top` show). */
import { readdirSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { ControlReply } from './protocol.js';
import { checkRuntimeDir, runtimeDir } from './runtime-dir.js';

export interface KernelAnswer {
  socket: string;
  reply: ControlReply;
}

/**
 * A socket file nobody listens on: connect() is refused at once. That is the only sure sign of a dead
 * kernel: its pid may have been reused by an unrelated process, and a stopped (SIGSTOP) or busy kernel
 * still accepts the connection (it just answers late), so neither pid liveness nor silence is used.
 */
export function isStale(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED';
}

function removeStale(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false; // raced with another cleaner
  }
}

/** One request/reply on a control socket. Rejects with the socket error (ECONNREFUSED: stale) or 'no answer' after timeoutMs. */
export function query(path: string, timeoutMs = 1500): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('no answer'));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write('{"op":"ps"}\n'));
    sock.on('data', (c: string) => (buf += c));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as ControlReply);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

/** Whether a kernel listens on the socket: connects and hangs up without asking anything. */
export function probe(path: string, timeoutMs = 1000): Promise<'live' | 'stale' | 'unknown'> {
  return new Promise((resolve) => {
    const sock = connect(path);
    const done = (r: 'live' | 'stale' | 'unknown'): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('unknown'), timeoutMs);
    sock.on('connect', () => done('live'));
    sock.on('error', (err) => done(isStale(err) ? 'stale' : 'unknown'));
  });
}

function socketsIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => n.endsWith('.sock'))
      .map((n) => join(dir, n));
  } catch {
    return [];
  }
}

/**
 * Remove the sockets of dead kernels (nobody listening) from the runtime directory, except `keep`.
 * Called when a kernel opens its own socket. Returns the paths removed.
 */
export async function sweepStale(dir: string, keep?: string): Promise<string[]> {
  const paths = socketsIn(dir).filter((p) => p !== keep);
  const results = await Promise.all(paths.map(async (p) => ((await probe(p)) === 'stale' && removeStale(p) ? p : undefined)));
  return results.filter((p): p is string => p !== undefined);
}

/**
 * Every kernel that answers. The directory is checked first (ours, mode 0700: see checkRuntimeDir; throws
 * InputError E_RUNTIME_DIR otherwise). Sockets of dead kernels are removed on the way.
 */
export async function queryAll(dir = runtimeDir()): Promise<KernelAnswer[]> {
  if (!checkRuntimeDir(dir)) return [];
  const answers = await Promise.all(
    socketsIn(dir).map(async (path): Promise<KernelAnswer | undefined> => {
      try {
        return { socket: path, reply: await query(path) };
      } catch (err) {
        if (isStale(err)) removeStale(path);
        return undefined;
      }
    }),
  );
  return answers.filter((a): a is KernelAnswer => a !== undefined);
}
