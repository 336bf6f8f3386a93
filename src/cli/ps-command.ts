/**
 * `agentos ps` / `agentos top`: the live agent processes of every running kernel on this machine, asked
 * over each kernel's control socket (see src/control). `top` redraws in place until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { queryAll, type KernelAnswer } from '../control/client.js';
import { InputError } from '../errors.js';
import type { Acb } from '../kernel-api/acb.js';
import { EXIT } from '../runs/exit-codes.js';
import type { Io } from '../runs/io.js';

export const PS_USAGE = `usage: agentos ps [--all] [--json]
  lists the agent processes of every running kernel (run, pid, agent, state, task, RSS, CPU, restarts)
  --all     include processes that have ended
  --json    print the kernels' answers as JSON
usage: agentos top [--interval MS] [--iterations N] [--all]
  the same table, redrawn every MS milliseconds (default 1000) until Ctrl-C (or N times)`;

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));

function rows(answers: KernelAnswer[], all: boolean): string[][] {
  const out: string[][] = [['RUN', 'PID', 'AGENT', 'STATE', 'TASK', 'RSS MB', 'CPU %', 'RESTARTS', 'MAILBOX']];
  for (const a of answers) {
    if (!a.reply.ok) continue;
    const procs = a.reply.processes.filter((p: Acb) => all || (p.state !== 'exited' && p.state !== 'crashed'));
    for (const p of procs) {
      out.push([a.reply.kernel.run_id, String(p.pid), `${p.agent}#${p.instance}`, p.standby ? `${p.state} (standby)` : p.state, p.task ?? '-', p.rss_mb.toFixed(1), p.cpu.toFixed(1), String(p.restarts), String(p.mailbox_depth)]);
    }
  }
  return out;
}

export function renderPs(answers: KernelAnswer[], all: boolean): string[] {
  const lines: string[] = [];
  for (const a of answers) {
    if (!a.reply.ok) continue;
    const k = a.reply.kernel;
    const tasks = Object.entries(k.tasks).map(([s, n]) => `${n} ${s}`).join(', ');
    lines.push(`kernel pid ${k.kernel_pid}  run ${k.run_id}  plan '${k.plan}'  ${k.status}  tasks: ${tasks || 'none'}`);
  }
  if (answers.length === 0) return ['no running agentos kernel found'];
  const table = rows(answers, all);
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  lines.push('', ...table.map((r) => r.map((cell, c) => pad(cell, widths[c]!)).join('  ').trimEnd()));
  return lines;
}

export async function psCommand(argv: string[], io: Io): Promise<number> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: { all: { type: 'boolean' }, json: { type: 'boolean' } } }));
  } catch (err) {
    throw new InputError('E_USAGE', `${(err as Error).message}\n${PS_USAGE}`);
  }
  const answers = await queryAll();
  if (values.json) io.out(JSON.stringify(answers.map((a) => a.reply), null, 2));
  else for (const l of renderPs(answers, values.all === true)) io.out(l);
  return EXIT.ok;
}

export async function topCommand(argv: string[], io: Io): Promise<number> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: { all: { type: 'boolean' }, interval: { type: 'string' }, iterations: { type: 'string' } } }));
  } catch (err) {
    throw new InputError('E_USAGE', `${(err as Error).message}\n${PS_USAGE}`);
  }
  const interval = values.interval === undefined ? 1000 : Number(values.interval);
  if (!Number.isInteger(interval) || interval < 100 || interval > 60_000) throw new InputError('E_USAGE', `--interval '${String(values.interval)}': expected milliseconds between 100 and 60000.`);
  const iterations = values.iterations === undefined ? Infinity : Number(values.iterations);
  if (iterations !== Infinity && (!Number.isInteger(iterations) || iterations < 1)) throw new InputError('E_USAGE', `--iterations '${String(values.iterations)}': expected a whole number of at least 1.`);
  let stop = false;
  let wake: () => void = () => {};
  const onSig = (): void => {
    stop = true;
    wake();
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  try {
    for (let i = 0; i < iterations && !stop; i++) {
      const answers = await queryAll();
      // Home the cursor and clear: the table is redrawn in place.
      io.out(`\x1b[H\x1b[2J${new Date().toISOString()}  agentos top (every ${interval} ms, Ctrl-C to quit)`);
      for (const l of renderPs(answers, values.all === true)) io.out(l);
      if (i + 1 < iterations) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, interval);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    }
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
  return EXIT.ok;
}
