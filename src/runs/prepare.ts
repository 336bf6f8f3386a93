/** Preparing a plan run: everything that can be wrong with the input is found here, before any process starts. */
import { loadPlanFile, type Plan } from '../config/plan.js';
import { AgentRegistry } from '../config/registry.js';
import { InputError } from '../errors.js';
import { BUILTIN_AGENTS } from '../paths.js';
import { pidIsolation } from '../platform/isolation.js';
import type { Injection } from '../scheduler/scheduler.js';

/** The built-in agents plus `dirs` (later directories are searched after the built-ins). */
export function loadAgents(dirs: readonly string[]): AgentRegistry {
  return new AgentRegistry([BUILTIN_AGENTS, ...dirs]);
}

/** Every `--inject` must name a known agent. Throws InputError E_UNKNOWN_AGENT. */
export function checkInjections(registry: AgentRegistry, injections: readonly Injection[]): void {
  for (const inj of injections) {
    if (!registry.has(inj.agent)) throw new InputError('E_UNKNOWN_AGENT', `--inject names unknown agent '${inj.agent}' (known: ${registry.names().join(', ')}).`);
  }
}

/** The plan file checked against the agents. Throws InputError (file, line, field, fix). */
export function prepareRun(opts: { plan: string; agents: readonly string[]; injections: readonly Injection[]; maxPlanTasks?: number | undefined; maxPlanBytes?: number | undefined }): { registry: AgentRegistry; plan: Plan } {
  const registry = loadAgents(opts.agents);
  const plan = loadPlanFile(opts.plan, registry, { maxTasks: opts.maxPlanTasks, maxBytes: opts.maxPlanBytes });
  checkInjections(registry, opts.injections);
  checkIsolation(registry, new Set(plan.tasks.map((t) => t.agent)));
  return { registry, plan };
}

/**
 * Agents asking for `isolation: pid` need a machine that can make PID namespaces: refused before any
 * process starts where it cannot (InputError E_USAGE, exit 2), with what `agentos doctor` says.
 */
export function checkIsolation(registry: AgentRegistry, agents: Iterable<string>): void {
  for (const name of agents) {
    const spec = registry.get(name);
    if (spec.isolation !== 'pid') continue;
    const s = pidIsolation();
    if (!s.ok) throw new InputError('E_USAGE', `${spec.file}: agent '${name}' asks for isolation: pid, which this machine cannot give: ${s.detail}. Fix: ${s.fix ?? ''} (agentos doctor; docs/sandbox.md).`, { file: spec.file });
  }
}
