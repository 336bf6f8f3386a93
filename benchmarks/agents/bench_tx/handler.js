// Throughput: send input.count messages to input.to, keeping input.window sends in flight.
// Ping-pong: send input.rounds pings and wait for each pong; returns the round-trip times.
import { performance } from 'node:perf_hooks';
const now = () => performance.timeOrigin + performance.now();
export default async function tx(input, ctx) {
  if (input.mode === 'pingpong') {
    const rtt = [];
    for (let i = 0; i < input.rounds; i++) {
      const t = performance.now();
      await ctx.send(input.to, { i });
      await ctx.receive({ timeout_ms: 10000 });
      rtt.push(performance.now() - t);
    }
    return { rtt };
  }
  // wait until the receiver says it is receiving, so both sides are warm
  await ctx.receive({ timeout_ms: 30000 });
  const t0 = now();
  const inflight = new Set();
  for (let i = 0; i < input.count; i++) {
    const p = ctx.send(input.to, { i, pad: input.pad }).then(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= input.window) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  return { t0 };
}
