/**
 * A cluster on this machine for tests: real `agentos node` processes and real coordinators
 * (`agentos run|resume --cluster`) against a redis-server of the test's own (./redis.ts). Every process
 * started here is ended by pid in `stopAll()`; waits are on output lines, files and exits, not sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
export const AGENTS = fileURLToPath(new URL('./fixtures/agents', import.meta.url));

export interface Proc {
  proc: ChildProcess;
  pid: number;
  out: () => string;
  err: () => string;
  /** Resolves with the match once `re` shows up on stderr (or stdout). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<Proc>();

/** Start the CLI with args; env without secrets (PATH and HOME only). */
export function agentos(args: string[], cwd: string): Proc {
  const p = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? cwd } });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  p.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    poke();
  });
  p.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    poke();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => p.once('exit', (code, signal) => r({ code, signal })));
  const h: Proc = {
    proc: p,
    pid: p.pid!,
    out: () => out,
    err: () => err,
    exited,
    waitFor: (re, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = err.match(re) ?? out.match(re);
          if (!m) return;
          waiters.delete(check);
          clearTimeout(t);
          resolve(m);
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${re} from pid ${p.pid}:\n${err.slice(-3000)}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => setTimeout(() => (waiters.has(check) ? (waiters.delete(check), clearTimeout(t), reject(new Error(`pid ${p.pid} exited before ${re}:\n${err.slice(-3000)}`))) : undefined), 50));
        check();
      }),
  };
  live.add(h);
  void exited.then(() => live.delete(h));
  return h;
}

/** Start a node and wait until it joined. */
export async function startNode(url: string, id: string, dir: string): Promise<Proc> {
  const n = agentos(['node', '--cluster', url, '--agents', AGENTS, '--id', id, '--dir', join(dir, id), '--sample-ms', '100'], dir);
  await n.waitFor(/joined the cluster/);
  return n;
}

/** End every process started here (SIGKILL by pid) and wait for their exits. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...live].map(async (h) => {
      try {
        process.kill(h.pid, 'SIGTERM');
      } catch {
        return;
      }
      const t = setTimeout(() => {
        try {
          process.kill(h.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 8000);
      await h.exited;
      clearTimeout(t);
    }),
  );
}

/** Whether a pid is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Poll a condition every 50 ms until it holds (a state to reach, not a time to wait). */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A layered DAG: `layers` x `width` cwork tasks, each depending on 2 tasks of the layer before. */
export function layeredPlan(file: string, o: { layers: number; width: number; ms: number; marker: string }): string[] {
  const ids: string[] = [];
  const lines = [`name: layered-${o.layers}x${o.width}`, 'tasks:'];
  for (let l = 0; l < o.layers; l++) {
    for (let w = 0; w < o.width; w++) {
      const id = `t${l}_${w}`;
      ids.push(id);
      const deps = l === 0 ? [] : [`t${l - 1}_${w}`, `t${l - 1}_${(w + 1) % o.width}`];
      lines.push(`  - { id: ${id}, agent: cwork, deps: [${deps.join(', ')}], input: { n: ${l * o.width + w + 1}, ms: ${o.ms}, marker: ${JSON.stringify(o.marker)} } }`);
    }
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return ids;
}

/** Marker lines `start|done <task> <attempt> <pid>` written by the cwork agent. */
export function markers(file: string): Array<{ what: string; task: string; attempt: number; pid: number }> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [what, task, attempt, pid] = l.split(' ');
      return { what: what!, task: task!, attempt: Number(attempt), pid: Number(pid) };
    });
}
