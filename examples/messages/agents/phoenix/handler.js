// Attempt 1: tell the courier, then die by SIGKILL. Attempt 2 (a new process): read what was held.
export default async function phoenix(input, ctx) {
  if (ctx.task.attempt === 1) {
    await ctx.send(input.courier, { dying: process.pid });
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => {});
  }
  const got = [];
  while (got.length < input.count) {
    const m = await ctx.receive({ timeout_ms: 10000 });
    if (m === null) break;
    if (m.from.task === input.courier) got.push({ seq: m.seq, parcel: m.payload.parcel });
  }
  return { pid: process.pid, got };
}
