/**
 * Agent registry: finds `<dir>/<name>/agent.yaml` in the agent directories and loads specs on demand.
 * Directories given later take precedence (user dirs over the built-in `agents/`).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { type AgentSpec, loadAgentSpec } from './agent-spec.js';
import { ProblemList } from './problems.js';

export class AgentRegistry {
  private readonly files = new Map<string, string>();
  private readonly specs = new Map<string, AgentSpec>();

  /** @param dirs agent directories, lowest precedence first. */
  constructor(dirs: readonly string[]) {
    for (const dir of dirs) {
      const abs = resolve(dir);
      const st = statSync(abs, { throwIfNoEntry: false });
      if (!st?.isDirectory()) {
        const what = st ? 'is a file, not an agent directory' : 'agent directory not found';
        throw new InputError('E_FILE_NOT_FOUND', `${dir}: ${what}. Fix: pass a directory that holds <name>/agent.yaml.`, { file: dir });
      }
      if (existsSync(join(abs, 'agent.yaml'))) {
        // A new user's likely slip: --agents agents/foo instead of --agents agents.
        throw new InputError('E_FILE_NOT_FOUND', `${dir}: this is one agent's directory (it holds agent.yaml); --agents takes the directory above it. Fix: pass ${resolve(abs, '..')}.`, { file: dir });
      }
      for (const entry of readdirSync(abs, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const file = join(abs, entry.name, 'agent.yaml');
        if (existsSync(file)) this.files.set(entry.name, file);
      }
    }
  }

  /** Add one agent from an explicit agent.yaml (tests, embedding). */
  addFile(name: string, file: string): void {
    this.files.set(name, resolve(file));
    this.specs.delete(name);
  }

  has(name: string): boolean {
    return this.files.has(name);
  }

  names(): string[] {
    return [...this.files.keys()].sort();
  }

  /** Load and validate an agent; throws InputError with the file and field on any problem. */
  get(name: string): AgentSpec {
    const cached = this.specs.get(name);
    if (cached) return cached;
    const file = this.files.get(name);
    if (!file) throw new InputError('E_UNKNOWN_AGENT', `unknown agent '${name}'.`);
    const spec = loadAgentSpec(file, name);
    this.specs.set(name, spec);
    return spec;
  }

  /**
   * Load every named agent and its fallback chain, collecting the problems of every file (schema,
   * handler, fallbacks that are missing or loop) instead of stopping at the first.
   * Throws InputProblems listing them all.
   */
  validate(names: Iterable<string>): void {
    const problems = new ProblemList();
    const checked = new Set<string>();
    for (const start of names) {
      const seen: string[] = [];
      let prev: AgentSpec | undefined;
      let cur: string | undefined = start;
      while (cur !== undefined && !checked.has(cur)) {
        if (seen.includes(cur)) {
          problems.add({ code: 'E_CYCLE', file: this.files.get(start), message: `fallback loop: ${[...seen, cur].join(' -> ')}. Fix: end the fallback chain at an agent without 'fallback'.` });
          break;
        }
        seen.push(cur);
        if (!this.has(cur)) {
          problems.add({ code: 'E_UNKNOWN_AGENT', file: prev?.file, message: `fallback agent '${cur}' not found (known: ${this.names().join(', ')}). Fix: name an existing agent or add its directory with --agents.` });
          break;
        }
        try {
          prev = this.get(cur);
        } catch (err) {
          problems.addError(err);
          break;
        }
        cur = prev.fallback;
      }
      for (const s of seen) checked.add(s);
    }
    problems.throwIfAny();
  }

  /** The fallback chain of an agent, itself first; a loop in the chain is an input error. */
  chain(name: string): AgentSpec[] {
    const out: AgentSpec[] = [];
    const seen = new Set<string>();
    let cur: string | undefined = name;
    while (cur !== undefined) {
      if (seen.has(cur)) {
        throw new InputError('E_CYCLE', `fallback loop: ${[...seen, cur].join(' -> ')}. Fix: end the fallback chain at an agent without 'fallback'.`, { file: this.files.get(name) });
      }
      seen.add(cur);
      const prev = out[out.length - 1];
      if (!this.has(cur)) {
        throw new InputError('E_UNKNOWN_AGENT', `${prev?.file ?? 'plan'}: fallback agent '${cur}' not found (known: ${this.names().join(', ')}). Fix: name an existing agent or add its directory with --agents.`, { file: prev?.file });
      }
      const spec = this.get(cur);
      out.push(spec);
      cur = spec.fallback;
    }
    return out;
  }
}
