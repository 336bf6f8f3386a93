// Subscribes, tells the desk, then reads the headlines and the broadcast.
export default async function reader(input, ctx) {
  await ctx.subscribe(input.topic);
  await ctx.send(input.desk, { subscribed: `${ctx.agent.name}#${ctx.agent.instance}` });
  const got = [];
  while (got.length < input.expect) {
    const m = await ctx.receive({ timeout_ms: 10000 });
    if (m === null) break;
    got.push({ topic: m.topic, headline: m.payload.headline, seq: m.seq });
  }
  return { slot: `${ctx.agent.name}#${ctx.agent.instance}`, got };
}
