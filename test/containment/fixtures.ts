/** Helpers of the containment tests: start a fixture process, read its JSON lines, end what was started. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { killTree } from '../../src/process/containment/kill-tree.js';
import { RUN_TAG_ENV } from '../../src/process/containment/types.js';
import { ROOT } from '../helpers.js';

export const FIXTURES = join(ROOT, 'test/fixtures/containment');

export interface Started {
  child: ChildProcess;
  pid: number;
  /** The next JSON line from its stdout that has `key` (waits; rejects on exit first or after timeoutMs). */
  next<T = Record<string, unknown>>(key: string, timeoutMs?: number): Promise<T>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Array<{ pid: number; tag: string | undefined }> = [];

/**
 * Start `node <fixture> ...args` (or `file args` when `raw`), with the env tag when given. The caller
 * attaches it to a cell right after this returns.
 */
export function start(fixture: string, args: string[] = [], opts: { tag?: string; raw?: { file: string; args: string[] } } = {}): Started {
  const env = { ...process.env, ...(opts.tag ? { [RUN_TAG_ENV]: opts.tag } : {}) };
  const child = opts.raw
    ? spawn(opts.raw.file, opts.raw.args, { env, stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, [join(FIXTURES, fixture), ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.pid === undefined) throw new Error(`could not start ${fixture}`);
  started.push({ pid: child.pid, tag: opts.tag });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a JSON line
      }
      for (const w of waiters.splice(0)) w();
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const w of waiters.splice(0)) w();
  });
  const next = <T,>(key: string, timeoutMs = 20_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${fixture}: no line with '${key}' within ${timeoutMs} ms`)), timeoutMs);
      const check = (): void => {
        const idx = lines.findIndex((l) => key in l);
        if (idx >= 0) {
          clearTimeout(timer);
          resolve(lines.splice(idx, 1)[0] as T);
        } else if (done) {
          clearTimeout(timer);
          reject(new Error(`${fixture} exited before printing '${key}'`));
        } else waiters.push(check);
      };
      check();
    });
  return { child, pid: child.pid, next, exited };
}

/** Safety net for afterEach: end every started process and its tree (by pid and tag, never by name). */
export async function endStarted(): Promise<void> {
  for (const s of started.splice(0)) await killTree(s.pid, s.tag ? { tag: s.tag, deadlineMs: 3000 } : { deadlineMs: 3000 });
}

/** Open file descriptors of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
