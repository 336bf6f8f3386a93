/** A stand-in kernel control socket: a real process listening on a Unix socket, for ps/top tests. */
import { execa, type ResultPromise } from 'execa';

/** What the stand-in answers to any request: a forged kernel (as a planted socket would show). */
const SCRIPT = `
const path = process.argv[1];
const reply = JSON.stringify({ ok: true, kernel: { kernel_pid: 1, run_id: 'FORGED', plan: 'forged-plan', status: 'running', started_at: new Date().toISOString(), run_dir: '/', tasks: { running: 1 } }, processes: [] }) + '\\n';
require('node:net').createServer((s) => s.once('data', () => s.end(reply))).listen(path, () => console.log('listening'));
`;

export interface Listener {
  proc: ResultPromise<{ reject: false }>;
  pid: number;
}

/** Start a listener on `path` and wait until it listens (its 'listening' line). */
export async function listenOn(path: string): Promise<Listener> {
  const proc = execa('node', ['-e', SCRIPT, path], { reject: false });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      if (String(d).includes('listening')) resolve();
    });
    void proc.then((r) => reject(new Error(`listener exited early: ${r.stderr}`)));
  });
  return { proc, pid: proc.pid! };
}

/** SIGKILL the listener (its socket file stays behind, as a SIGKILLed kernel's does) and wait for its exit. */
export async function killHard(l: Listener): Promise<void> {
  process.kill(l.pid, 'SIGKILL');
  await l.proc;
}
