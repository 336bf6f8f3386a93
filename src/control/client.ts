/** Ask every kernel in the runtime directory for its process table (what `agentos ps` and `top` show). */
import { readdirSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { ControlReply } from './protocol.js';
import { runtimeDir } from './runtime-dir.js';

export interface KernelAnswer {
  socket: string;
  reply: ControlReply;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

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

/** Every kernel that answers. Sockets of dead kernels (pid gone) are removed on the way. */
export async function queryAll(dir = runtimeDir()): Promise<KernelAnswer[]> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.sock'));
  } catch {
    return [];
  }
  const answers = await Promise.all(
    names.map(async (n): Promise<KernelAnswer | undefined> => {
      const path = join(dir, n);
      try {
        return { socket: path, reply: await query(path) };
      } catch {
        const pid = Number(n.split('-')[0]);
        if (Number.isInteger(pid) && pid > 0 && !alive(pid)) {
          try {
            unlinkSync(path);
          } catch {
            // raced with its owner
          }
        }
        return undefined;
      }
    }),
  );
  return answers.filter((a): a is KernelAnswer => a !== undefined);
}
