// One agent of the KV-cache demo: start from the shared system prompt (prefix caching shares its pages),
// add a private part, fork continuations and let them diverge (copy-on-write on the shared tail page).
export default async function kvDemo(input, ctx) {
  const prompt = Array.from({ length: input.prefix }, (_, i) => (i * 31 + 7) % 100000);
  const own = Array.from({ length: input.private }, (_, i) => 100000 + input.seed * 1000 + i);
  const base = await ctx.kv.create(prompt);
  await ctx.kv.append(base.seq, own);
  const forks = [];
  for (let f = 0; f < input.forks; f++) {
    const child = await ctx.kv.fork(base.seq);
    await ctx.kv.append(child.seq, Array.from({ length: input.continuation }, (_, i) => 200000 + input.seed * 100 + f * 10 + i));
    forks.push(child.seq);
  }
  return { pid: process.pid, seq: base.seq, forks, prefix_hits: base.prefix_hits };
}
