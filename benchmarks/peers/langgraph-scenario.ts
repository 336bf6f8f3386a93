/**
 * LangGraph JS scenarios (@langchain/langgraph StateGraph), each in its own process, run by
 * benchmarks/peers/langgraph.ts:
 *   fanout <tasks> [fault]   START -> Send x tasks -> 'work' (no-op) -> END; with a fault, task #tasks/2
 *                            commits it inside its node (same process: LangGraph runs nodes in-process)
 *   repair [fault]           the repair workflow (planner -> analyzer -> patch -> test -> report) as five
 *                            nodes calling the same agent handlers as AgentOS; the fault in the patch node
 */
import { Annotation, END, Send, START, StateGraph } from '@langchain/langgraph';
import { emitResult } from '../lib/child.js';
import { commitPeerFault, type PeerFault } from '../lib/faults.js';
import { loadRepairHandlers, REPAIR_INPUTS } from '../lib/repair.js';

const [mode, arg1, arg2] = process.argv.slice(2);

async function fanout(tasks: number, fault: PeerFault | undefined): Promise<void> {
  const State = Annotation.Root({
    n: Annotation<number>(),
    done: Annotation<number[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  });
  const faultAt = Math.floor(tasks / 2);
  const graph = new StateGraph(State)
    .addNode('work', (s: { i: number }) => {
      if (fault && s.i === faultAt) commitPeerFault(fault);
      return { done: [s.i] };
    })
    .addConditionalEdges(START, (s: typeof State.State) => Array.from({ length: s.n }, (_, i) => new Send('work', { i })))
    .addEdge('work', END)
    .compile();
  // warm-up: JIT and module caches, as the other systems get warm workers
  await graph.invoke({ n: 50 });
  const runs: number[] = [];
  let completed = 0;
  let error: string | undefined;
  for (let r = 0; r < (fault ? 1 : 3); r++) {
    const t0 = performance.now();
    try {
      const out = await graph.invoke({ n: tasks }, { recursionLimit: 1000 });
      completed = out.done.length;
    } catch (err) {
      error = `${(err as Error).name}: ${(err as Error).message}`.slice(0, 160);
      completed = 0;
    }
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  const ms = runs[Math.floor(runs.length / 2)]!;
  emitResult({ tasks, fault: fault ?? null, ms, per_task_us: (ms * 1000) / tasks, completed, error: error ?? null, runs_ms: runs });
}

async function repair(fault: PeerFault | undefined): Promise<void> {
  const h = await loadRepairHandlers();
  const State = Annotation.Root({ outputs: Annotation<Record<string, unknown>>({ reducer: (a, b) => ({ ...a, ...b }), default: () => ({}) }) });
  type S = typeof State.State;
  const step = (id: keyof typeof h, input?: unknown) => async (s: S) => {
    if (fault && id === 'patch') commitPeerFault(fault);
    const ctx = { deps: s.outputs, log: () => {} };
    return { outputs: { [id]: await h[id](input, ctx) } };
  };
  const graph = new StateGraph(State)
    .addNode('plan', step('plan', REPAIR_INPUTS.plan))
    .addNode('analyze', step('analyze', REPAIR_INPUTS.analyze))
    .addNode('patch', step('patch'))
    .addNode('test', step('test'))
    .addNode('report', step('report'))
    .addEdge(START, 'plan')
    .addEdge('plan', 'analyze')
    .addEdge('analyze', 'patch')
    .addEdge('patch', 'test')
    .addEdge('test', 'report')
    .addEdge('report', END)
    .compile();
  const t0 = performance.now();
  try {
    const out = await graph.invoke({});
    emitResult({ fault: fault ?? null, ms: performance.now() - t0, fixed: (out.outputs.report as { fixed?: boolean } | undefined)?.fixed === true, error: null });
  } catch (err) {
    emitResult({ fault: fault ?? null, ms: performance.now() - t0, fixed: false, error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 160) });
  }
}

if (mode === 'fanout') await fanout(Number(arg1), arg2 as PeerFault | undefined);
else if (mode === 'repair') await repair(arg1 as PeerFault | undefined);
