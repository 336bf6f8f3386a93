// Reads one message every input.pause_ms.
export default async function slowConsumer(input, ctx) {
  const got = [];
  while (got.length < input.count) {
    const m = await ctx.receive({ timeout_ms: 10000 });
    if (m === null) break;
    if (m.from.task !== input.from) continue; // a broadcast copy, say
    got.push(m.payload.i);
    await new Promise((r) => setTimeout(r, input.pause_ms));
  }
  return { got };
}
