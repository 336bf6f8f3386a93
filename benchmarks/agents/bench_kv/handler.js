// KV page ops over IPC, one at a time (each an IPC round trip): appends of one token, then fork+free pairs.
import { performance } from 'node:perf_hooks';
export default async function kv(input, ctx) {
  const base = await ctx.kv.create(Array.from({ length: input.prefix }, (_, i) => i));
  let t = performance.now();
  for (let i = 0; i < input.ops; i++) await ctx.kv.append(base.seq, [i % 1000]);
  const append_s = (performance.now() - t) / 1000;
  t = performance.now();
  for (let i = 0; i < input.ops / 2; i++) {
    const f = await ctx.kv.fork(base.seq);
    await ctx.kv.free(f.seq);
  }
  const forkfree_s = (performance.now() - t) / 1000;
  return { append_ops_per_s: input.ops / append_s, fork_free_ops_per_s: input.ops / forkfree_s };
}
