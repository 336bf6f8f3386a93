// Collects input.count messages from input.from (other mail, e.g. a broadcast, is noted too).
export default async function listener(input, ctx) {
  const got = [];
  const other = [];
  while (got.length < input.count) {
    const m = await ctx.receive({ timeout_ms: 10000 });
    if (m === null) break;
    if (m.from.task === input.from) got.push({ seq: m.seq, from: m.from.address, line: m.payload.line });
    else other.push({ from: m.from.address, topic: m.topic });
  }
  return { got, other };
}
