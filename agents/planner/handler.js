// The planner: classifies the goal (the configured model when there is one, else rules), builds the DAG
// and adds its tasks to the run with ctx.spawn. The tasks depend on this task, so they start once the
// plan is complete. Safe to retry: tasks already added by an earlier attempt are kept.
import { classifyGoal, planGoal } from '../../dist/src/repair/index.js';

const KINDS = ['repair', 'scan', 'report'];

async function modelKind(goal, ctx) {
  try {
    const reply = await ctx.llm.chat({
      messages: [
        { role: 'system', content: 'Classify the goal as exactly one word: repair, scan or report.' },
        { role: 'user', content: goal },
      ],
      max_tokens: 5,
    });
    const word = String(reply.content ?? '').trim().toLowerCase().replace(/[^a-z]/g, '');
    return KINDS.includes(word) ? word : undefined;
  } catch (err) {
    if (err.code !== 'E_NO_LLM') ctx.log.warn(`model unavailable, planning by rules: ${err.message}`);
    return undefined;
  }
}

export default async function planner(input, ctx) {
  const goal = String(input?.goal ?? '').trim();
  if (!goal) throw new Error('planner: input.goal is empty');
  let kind = input.kind;
  let by = 'given';
  if (!kind) {
    kind = await modelKind(goal, ctx);
    by = kind ? 'model' : 'rules';
    kind ??= classifyGoal(goal);
  }
  if (!KINDS.includes(kind)) throw new Error(`planner: cannot tell what to do for '${goal}': say repair/fix, scan/analyse or report`);
  const tasks = planGoal(kind, goal, input.context, ctx.task.id);
  for (const t of tasks) {
    try {
      await ctx.spawn(t);
    } catch (err) {
      if (err.code !== 'E_DUPLICATE_TASK') throw err;
    }
  }
  ctx.log(`${kind} plan (${by}): ${tasks.map((t) => `${t.id}[${t.agent}]`).join(' ')}`);
  return { goal, kind, by, tasks: tasks.map(({ id, agent, deps }) => ({ id, agent, deps })) };
}
