/**
 * Run one benchmark scenario in its own node process, so a scenario that kills its process (a peer
 * framework meeting a crash or a heap blow-up) is measured instead of taking the benchmark down.
 * The child prints one JSON line starting with `RESULT ` when it gets that far.
 */
import { spawn } from 'node:child_process';

export interface ChildOutcome<T> {
  /** What the scenario printed, if it lived to print it. */
  result: T | undefined;
  code: number | null;
  signal: string | null;
  ms: number;
  /** Killed by us at the deadline (it was still running). */
  killedAtDeadline: boolean;
  stderrTail: string;
  /** The last 4 KB of stderr. */
  stderr: string;
}

export function runScenario<T>(script: string, args: string[], opts: { deadlineMs: number; nodeFlags?: string[]; env?: Record<string, string> }): Promise<ChildOutcome<T>> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...opts.env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4096)));
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    try {
      process.kill(-child.pid!, 'SIGKILL'); // the whole group: worker threads die with their process anyway
    } catch {
      child.kill('SIGKILL');
    }
  }, opts.deadlineMs);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      resolve({ result: line ? (JSON.parse(line.slice(7)) as T) : undefined, code, signal, ms: Math.round(performance.now() - t0), killedAtDeadline: killed, stderrTail: err.trim().split('\n').slice(-3).join(' | '), stderr: err });
    });
  });
}

/** Print the scenario's result for runScenario. */
export function emitResult(value: unknown): void {
  process.stdout.write(`RESULT ${JSON.stringify(value)}\n`);
}
