/**
 * Worker thread of the differential check (probe-run.ts): imports one variant's modules and evaluates
 * the inputs from `from` on, posting `{ i, out }` after each. A call that loops forever is ended from
 * outside (Worker.terminate stops synchronous code too). `out` is the result and the arguments after the
 * call (in-place changes count), as util.inspect text, or `throws <ErrorName>`.
 */
import { inspect } from 'node:util';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

interface Job {
  dir: string;
  inputs: Array<{ file: string; fn: string; args: string }>;
  from: number;
}

const show = (v: unknown): string => inspect(v, { depth: 8, sorted: true, breakLength: Infinity, maxArrayLength: 2000, maxStringLength: 20_000, getters: false });

async function run(job: Job): Promise<void> {
  const modules = new Map<string, Record<string, unknown> | Error>();
  for (let i = job.from; i < job.inputs.length; i++) {
    const input = job.inputs[i]!;
    let mod = modules.get(input.file);
    if (!mod) {
      mod = await import(pathToFileURL(join(job.dir, input.file)).href).then((m: Record<string, unknown>) => m, (e: unknown) => (e instanceof Error ? e : new Error(String(e))));
      modules.set(input.file, mod);
    }
    parentPort!.postMessage({ i, out: await evaluate(mod, input) });
  }
  parentPort!.postMessage({ done: true });
}

async function evaluate(mod: Record<string, unknown> | Error, input: Job['inputs'][number]): Promise<string> {
  if (mod instanceof Error) return `import fails: ${mod.name}`;
  const dflt = mod.default as Record<string, unknown> | undefined;
  const fn = input.fn === 'default' ? dflt : (mod[input.fn] ?? (dflt && typeof dflt === 'object' ? dflt[input.fn] : undefined));
  if (typeof fn !== 'function') return 'not a function';
  // Arguments are plain values written as source by probe-inputs.ts (the tests' own literals).
  const args = new Function(`return ${input.args};`)() as unknown[];
  try {
    let r: unknown = (fn as (...a: unknown[]) => unknown)(...args);
    if (r && typeof (r as { then?: unknown }).then === 'function') r = await r;
    return show({ result: r, args });
  } catch (e) {
    return `throws ${(e as Error | null)?.constructor?.name ?? typeof e}`;
  }
}

void run(workerData as Job);
