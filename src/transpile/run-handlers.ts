/**
 * The handlers of one run: every agent's TypeScript handler prepared once (see prepare.ts), and the spec
 * the kernel spawns with its `handlerPath` swapped for the prepared module. Integration points for the
 * kernel: `await handlers.prepareAll(specs)` before any process starts, `handlers.spec(spec)` at spawn.
 */
import type { AgentSpec } from '../config/agent-spec.js';
import { InputProblems, type Problem } from '../config/problems.js';
import { prepareHandler } from './prepare.js';

export class RunHandlers {
  private readonly ready = new Map<string, AgentSpec>();

  /** @param runDir the run directory; output goes to `<runDir>/handlers/`. */
  constructor(private readonly runDir: string) {}

  /**
   * Prepare these agents' handlers (JavaScript ones cost nothing). Every problem of every agent is
   * reported at once: throws InputProblems (E_HANDLER_SYNTAX, E_MISSING_HANDLER, E_SCHEMA).
   */
  async prepareAll(specs: Iterable<AgentSpec>): Promise<void> {
    const todo = [...new Map([...specs].filter((s) => !this.ready.has(s.name)).map((s) => [s.name, s])).values()];
    const problems: Problem[] = [];
    await Promise.all(
      todo.map(async (spec) => {
        try {
          const handlerPath = await prepareHandler(spec, this.runDir);
          this.ready.set(spec.name, handlerPath === spec.handlerPath ? spec : { ...spec, handlerPath });
        } catch (err) {
          if (err instanceof InputProblems) problems.push(...err.problems);
          else throw err;
        }
      }),
    );
    if (problems.length > 0) throw new InputProblems(problems);
  }

  /** The spec to spawn: with the prepared handler when `prepareAll` saw this agent, else as given. */
  spec(spec: AgentSpec): AgentSpec {
    return this.ready.get(spec.name) ?? spec;
  }
}
