// Deterministic planner: splits a goal into the repair workflow's steps.
export default async function planner(input, ctx) {
  const goal = String(input?.goal ?? 'repair the failing function');
  ctx.log(`planning for goal: ${goal}`);
  return { goal, steps: ['analyze', 'patch', 'test', 'report'] };
}
