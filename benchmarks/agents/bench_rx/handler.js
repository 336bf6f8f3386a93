// Throughput: receive input.count messages; Ping-pong: answer every ping.
import { performance } from 'node:perf_hooks';
const now = () => performance.timeOrigin + performance.now();
export default async function rx(input, ctx) {
  if (input.mode === 'pingpong') {
    for (let i = 0; i < input.rounds; i++) {
      const m = await ctx.receive({ timeout_ms: 10000 });
      await ctx.send(m.from.task, { i });
    }
    return {};
  }
  await ctx.send(input.from, 'ready');
  let n = 0;
  while (n < input.count) {
    if (input.batch) {
      const ms = await ctx.receiveMany({ timeout_ms: 10000, max: input.batch });
      if (ms.length === 0) break;
      n += ms.length;
      continue;
    }
    const m = await ctx.receive({ timeout_ms: 10000 });
    if (m === null) break;
    n++;
  }
  return { received: n, t_end: now() };
}
