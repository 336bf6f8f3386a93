// Direct messages: three lines to the task named in input.to.
export default async function chatter(input, ctx) {
  const seqs = [];
  for (const line of input.lines) seqs.push((await ctx.send(input.to, { line })).seq);
  return { sent: input.lines.length, seqs };
}
