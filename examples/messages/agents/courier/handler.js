// Waits for phoenix's last words, then sends it parcels while it is being restarted.
export default async function courier(input, ctx) {
  const last = await ctx.receive({ timeout_ms: 10000 });
  for (let i = 1; i <= input.count; i++) await ctx.send(input.to, { parcel: i });
  return { crashed_pid: last?.payload?.dying ?? null };
}
