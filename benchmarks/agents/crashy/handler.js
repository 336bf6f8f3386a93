export default async (input, ctx) => {
  if (input?.crash && ctx.task.attempt === 1) process.abort();
  return ctx.task.attempt;
};
