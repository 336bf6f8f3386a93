// npm run bench:cluster: waits input.ms without blocking; appends "<task> <attempt>" to input.marker when
// given (to count re-runs after a coordinator takeover).
import { appendFileSync } from 'node:fs';

export default async (input, ctx) => {
  if (input?.marker) appendFileSync(input.marker, `${ctx.task.id} ${ctx.task.attempt}\n`);
  if (input?.ms) await new Promise((r) => setTimeout(r, input.ms));
  return { task: ctx.task.id };
};
