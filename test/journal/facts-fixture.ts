/** Small builders of journal facts for the journal tests. */
import type { FactInput } from '../../src/journal/facts.js';

const HASH = 'a'.repeat(64);

export function header(runId = 'run-test'): FactInput {
  return {
    type: 'run.header',
    format: 1,
    run_id: runId,
    pid: process.pid,
    plan: { path: 'plan.yaml', text: 'name: t\ntasks: []\n', sha256: HASH },
    agents: [{ name: 'echo', dir: 'agents/echo', hash: HASH, files: [{ path: 'agent.yaml', sha256: HASH }, { path: 'handler.js', sha256: HASH }] }],
    options: { injections: [], concurrency: 4 },
  };
}

export function added(task: string, deps: string[] = [], agent = 'echo'): FactInput {
  return { type: 'task.added', task, agent, deps, input: { n: task }, dynamic: false, spawned_by: null };
}

export function started(task: string, attempt: number, pid = 4242, agent = 'echo'): FactInput {
  return { type: 'attempt.started', task, attempt, agent, instance: 0, pid };
}

export function succeeded(task: string, attempt: number, output: unknown = { ok: task }, agent = 'echo'): FactInput {
  return { type: 'task.succeeded', task, attempt, agent, output };
}

export function charge(agent: string, tokens: number): FactInput {
  return { type: 'token.charge', agent, tokens };
}
