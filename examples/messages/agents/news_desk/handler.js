// Waits until input.subscribers readers said they subscribed, publishes, then broadcasts to every live agent.
export default async function newsDesk(input, ctx) {
  for (let n = 0; n < input.subscribers; n++) await ctx.receive({ timeout_ms: 10000 });
  const published = [];
  for (const headline of input.headlines) published.push((await ctx.publish(input.topic, { headline })).delivered_to);
  const broadcast = (await ctx.broadcast({ headline: 'the desk is closing' })).delivered_to;
  return { published, broadcast };
}
