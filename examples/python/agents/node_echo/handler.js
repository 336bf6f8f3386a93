// Answers each message from the Python agent, in order, with its number doubled.
export default async (input, ctx) => {
  const seen = [];
  for (let i = 0; i < input.count; i++) {
    const m = await ctx.receive({ timeout_ms: 5000 });
    if (!m) throw new Error('no message from the Python agent');
    seen.push({ from: m.from.agent, seq: m.seq, n: m.payload.n });
    await ctx.send(m.from.task, { doubled: m.payload.n * 2 });
  }
  return { seen };
};
