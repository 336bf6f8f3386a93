/**
 * The differential check's runs (test agent, `probe` mode): every variant — the original program and
 * each plausible patch, each in its own copy — evaluates the same inputs in a worker thread. An input
 * that takes longer than `perInputMs` is a hang: the worker is terminated (synchronous loops included)
 * and a new one goes on with the next input. A variant that hangs `maxHangs` times is not evaluated
 * further (its remaining inputs read `skipped`). The original runs twice: inputs whose two results
 * differ (time, randomness) are `unstable` and left out of every comparison.
 */
import { Worker } from 'node:worker_threads';
import type { ProbeInput } from './probe-inputs.js';

export interface ProbeRunInput {
  /** `original` is the unpatched copy; the others are candidate task ids. */
  variants: Array<{ id: string; dir: string }>;
  inputs: ProbeInput[];
  /** Time one call may take (ms, default 500). */
  perInputMs?: number | undefined;
  /** Hangs after which a variant is given up (default 3). */
  maxHangs?: number | undefined;
}

export interface ProbeRunOutput {
  /** Per variant id, one output per input: inspect text, `throws X`, `hang` or `skipped`. */
  outputs: Record<string, string[]>;
  unstable: number[];
  ms: number;
}

export const HANG = 'hang';
export const SKIPPED = 'skipped';
// Under vitest this module is the TypeScript source: the worker is the compiled one.
const WORKER = import.meta.url.endsWith('.ts') ? new URL('../../dist/src/repair/probe-worker.js', import.meta.url) : new URL('./probe-worker.js', import.meta.url);

/** Evaluate every input on every variant. Never throws for a variant's misbehaviour; resolves once all workers ended. */
export async function probeRun(input: ProbeRunInput): Promise<ProbeRunOutput> {
  const t0 = performance.now();
  const outputs: Record<string, string[]> = {};
  let unstable: number[] = [];
  for (const v of input.variants) {
    outputs[v.id] = await evalVariant(v.dir, input);
    if (v.id === 'original') {
      const again = await evalVariant(v.dir, input);
      unstable = again.map((o, i) => (o !== outputs[v.id]![i] ? i : -1)).filter((i) => i >= 0);
    }
  }
  return { outputs, unstable, ms: Math.round(performance.now() - t0) };
}

async function evalVariant(dir: string, input: ProbeRunInput): Promise<string[]> {
  const perInput = input.perInputMs ?? 500;
  const maxHangs = input.maxHangs ?? 3;
  const outs: string[] = new Array<string>(input.inputs.length).fill(SKIPPED);
  const inputs = input.inputs.map((i) => ({ file: i.file, fn: i.fn, args: i.args }));
  let from = 0;
  let hangs = 0;
  while (from < inputs.length && hangs < maxHangs) {
    const next = await new Promise<number>((resolve) => {
      let at = from;
      const w = new Worker(WORKER, { workerData: { dir, inputs, from }, stdout: true, stderr: true, resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 } });
      w.stdout.resume();
      w.stderr.resume();
      let timer: NodeJS.Timeout | undefined;
      // The first input also pays for the import of the module: a longer first limit.
      const arm = (ms: number): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          outs[at] = HANG;
          hangs++;
          void w.terminate();
        }, ms);
      };
      arm(perInput + 2000);
      let finished = false;
      w.on('message', (m: { i?: number; out?: string; done?: boolean }) => {
        if (m.done) {
          finished = true;
          void w.terminate();
          return;
        }
        outs[m.i!] = m.out!;
        at = m.i! + 1;
        arm(perInput);
      });
      // A worker that died (out of memory, process.exit in the module) ends its current input that way.
      w.on('error', (e: Error) => {
        if (at < inputs.length && outs[at] === SKIPPED) outs[at] = `dies ${e.name}`;
      });
      w.on('exit', () => {
        clearTimeout(timer);
        if (finished) resolve(inputs.length);
        else {
          if (at < inputs.length && outs[at] === SKIPPED) outs[at] = 'dies';
          resolve(at + 1);
        }
      });
    });
    from = next;
  }
  return outs;
}
