/**
 * The repair workflow of examples/crash-demo/plan.yaml, as every system in the benchmarks runs it: the
 * same five steps and the same agent handlers from examples/crash-demo/agents/, so only the runtime differs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../src/paths.js';

export type Handler = (input: unknown, ctx: { deps: Record<string, unknown>; log: (...a: unknown[]) => void }) => Promise<unknown>;

export const REPAIR_PLAN = join(PACKAGE_ROOT, 'examples/crash-demo/plan.yaml');
/** The plan's own agents (agents/ holds the full repair agents of `agentos repair`). */
export const REPAIR_AGENTS = join(PACKAGE_ROOT, 'examples/crash-demo/agents');

/** Task id -> agent, in the plan's order (a chain: each step needs the one before). */
export const REPAIR_STEPS = [
  { id: 'plan', agent: 'planner' },
  { id: 'analyze', agent: 'analyzer' },
  { id: 'patch', agent: 'patch_agent' },
  { id: 'test', agent: 'test_agent' },
  { id: 'report', agent: 'report_agent' },
] as const;
export type RepairStep = (typeof REPAIR_STEPS)[number]['id'];

const plan = parse(readFileSync(REPAIR_PLAN, 'utf8')) as { tasks: Array<{ id: string; input?: unknown }> };
export const REPAIR_INPUTS = Object.fromEntries(plan.tasks.map((t) => [t.id, t.input])) as Record<RepairStep, unknown>;

/** Tokens each agent declares per call (agent.yaml `cost.tokens_per_call`). */
export function tokensPerCall(agent: string): number {
  const y = parse(readFileSync(join(REPAIR_AGENTS, agent, 'agent.yaml'), 'utf8')) as { cost?: { tokens_per_call?: number } };
  return y.cost?.tokens_per_call ?? 0;
}

export async function loadRepairHandlers(): Promise<Record<RepairStep, Handler>> {
  const out = {} as Record<RepairStep, Handler>;
  for (const s of REPAIR_STEPS) {
    out[s.id] = ((await import(pathToFileURL(join(REPAIR_AGENTS, s.agent, 'handler.js')).href)) as { default: Handler }).default;
  }
  return out;
}
