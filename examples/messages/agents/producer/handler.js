// Sends input.count messages as fast as the kernel lets it; each send resolves once the message is queued.
import { performance } from 'node:perf_hooks';
export default async function producer(input, ctx) {
  const waits = [];
  const t0 = performance.now();
  for (let i = 1; i <= input.count; i++) {
    const t = performance.now();
    await ctx.send(input.to, { i });
    waits.push(Math.round(performance.now() - t));
  }
  return { sent: input.count, waits_ms: waits, total_ms: Math.round(performance.now() - t0) };
}
