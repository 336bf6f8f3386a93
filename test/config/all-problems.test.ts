/** A plan or agent.yaml with several mistakes: every one is reported in one go, each at its own line:col. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAgentSpec } from '../../src/config/agent-spec.js';
import { loadPlanFile } from '../../src/config/plan.js';
import { InputProblems, type Problem } from '../../src/config/problems.js';
import { AgentRegistry } from '../../src/config/registry.js';
import { cleanupTempDirs, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

/** The problems `fn` throws (fails when it throws anything else or nothing). */
function problemsOf(fn: () => unknown): readonly Problem[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputProblems);
    return (err as InputProblems).problems;
  }
  throw new Error('expected input problems, nothing was thrown');
}

/** An agents directory: name -> agent.yaml text; every agent gets a handler.js. */
function agentsDir(agents: Record<string, string>): string {
  const root = tempDir();
  for (const [name, yaml] of Object.entries(agents)) {
    mkdirSync(join(root, name));
    writeFileSync(join(root, name, 'agent.yaml'), yaml);
    writeFileSync(join(root, name, 'handler.js'), 'export default async () => 1;\n');
  }
  return root;
}

const at = (p: Problem): string => `${p.line}:${p.col}`;

describe('agent.yaml', () => {
  it('reports every problem, each at its own line and column, with the value received', () => {
    const root = agentsDir({
      many: ['name: many', 'handler: ./handler.js', 'instances: -3', 'retry:', '  backoff_ms: soon', 'flavour: mint', 'memory_mb: 2', 'mailbox: { policy: shout }', ''].join('\n'),
    });
    const problems = problemsOf(() => loadAgentSpec(join(root, 'many', 'agent.yaml'), 'many'));
    expect(problems.map(at)).toEqual(['3:12', '5:15', '6:1', '7:12', '8:20']);
    expect(problems.every((p) => p.file === join(root, 'many', 'agent.yaml'))).toBe(true);
    expect(problems[0]!.message).toMatch(/field 'instances'.*got -3.*Fix: use a number >= 1/);
    expect(problems[1]!.message).toMatch(/field 'retry\.backoff_ms'.*got "soon".*Fix: use a number/);
    expect(problems[2]!.message).toMatch(/unknown field 'flavour'. Fix: remove it or check the spelling/);
    expect(problems[3]!.message).toMatch(/field 'memory_mb'.*got 2.*>= 16/);
    expect(problems[4]!.message).toMatch(/field 'mailbox\.policy'.*got "shout".*use one of "block", "drop_oldest", "reject"/);
  });

  it('reports schema, name and handler problems of one file together', () => {
    const root = agentsDir({ named: 'name: other\nhandler: ./nowhere.js\ntimeout_ms: 0\n' });
    const problems = problemsOf(() => loadAgentSpec(join(root, 'named', 'agent.yaml'), 'named'));
    expect(problems.map((p) => [p.code, at(p)])).toEqual([
      ['E_SCHEMA', '1:7'],
      ['E_MISSING_HANDLER', '2:10'],
      ['E_SCHEMA', '3:13'],
    ]);
    expect(problems[0]!.message).toMatch(/'name' is "other" but the directory is "named"/);
  });

  it('a missing required field is reported at the map that lacks it', () => {
    const root = agentsDir({ bare: 'name: bare\nrole: nothing else\n' });
    const problems = problemsOf(() => loadAgentSpec(join(root, 'bare', 'agent.yaml'), 'bare'));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/missing required field 'handler'/);
  });

  it('a whole agents directory of bad files: every file, every problem, in one error', () => {
    const agents = agentsDir({
      first: 'name: first\nhandler: ./handler.js\ntimeout_ms: -1\ncolour: red\n',
      second: 'name: second\nhandler: ./gone.js\n',
      third: 'name: third\nhandler: ./handler.js\nfallback: nobody\n',
      fourth: 'name: fourth\nhandler: ./handler.js\nretry: [1, 2]\n',
      fine: 'name: fine\nhandler: ./handler.js\n',
    });
    const dir = tempDir();
    const plan = join(dir, 'plan.yaml');
    writeFileSync(plan, `name: p\ntasks:\n${['first', 'second', 'third', 'fourth', 'fine'].map((a, i) => `  - { id: t${i}, agent: ${a} }\n`).join('')}`);
    const err = (() => {
      try {
        loadPlanFile(plan, new AgentRegistry([agents]));
      } catch (e) {
        return e as InputProblems;
      }
      throw new Error('expected input problems');
    })();
    const byFile = (name: string): string[] => err.problems.filter((p) => (p.file ?? p.message).includes(`/${name}/`)).map((p) => p.code);
    expect(byFile('first')).toEqual(['E_SCHEMA', 'E_SCHEMA']);
    expect(byFile('second')).toEqual(['E_MISSING_HANDLER']);
    expect(byFile('third')).toEqual(['E_UNKNOWN_AGENT']);
    expect(byFile('fourth')).toEqual(['E_SCHEMA']);
    expect(err.problems).toHaveLength(5);
    expect(err.message.split('\n').at(-1)).toMatch(/^5 problems in 4 files; nothing was started\.$/);
  });
});

describe('plan', () => {
  it('reports schema and graph problems together, each at its own line', () => {
    const dir = tempDir();
    const agents = agentsDir({ worker: 'name: worker\nhandler: ./handler.js\n' });
    const plan = join(dir, 'plan.yaml');
    writeFileSync(plan, [
      'name: many-mistakes',
      'owner: me', // 2: unknown field
      'tasks:',
      '  - id: a',
      '    agent: nobody', // 5: unknown agent
      '  - id: b',
      '    agent: worker',
      '    deps: [a, ghost]', // 8: unknown dependency
      '  - id: a', // 9: duplicate id
      '    agent: worker',
      '  - id: c',
      '    agent: worker',
      '    deps: c', // 13: wrong type
      '  - id: d',
      '    agent: worker',
      '    deps: [d]', // 16: depends on itself
      '',
    ].join('\n'));
    const problems = problemsOf(() => loadPlanFile(plan, new AgentRegistry([agents])));
    expect(problems.map((p) => [p.code, p.line])).toEqual([
      ['E_SCHEMA', 2],
      ['E_SCHEMA', 13],
      ['E_DUPLICATE_TASK', 9],
      ['E_UNKNOWN_AGENT', 5],
      ['E_UNKNOWN_DEPENDENCY', 8],
      ['E_CYCLE', 16],
    ]);
    expect(problems[1]!.message).toMatch(/field 'tasks\.3\.deps'.*got "c".*Fix: use a list/);
    expect(problems[4]!.message).toMatch(/task 'b' depends on unknown task 'ghost'/);
  });

  it('a long cycle is listed by a readable prefix', () => {
    const dir = tempDir();
    const agents = agentsDir({ worker: 'name: worker\nhandler: ./handler.js\n' });
    const plan = join(dir, 'plan.yaml');
    const n = 5_000;
    writeFileSync(plan, `{"name":"ring","tasks":[\n${Array.from({ length: n }, (_, i) => `{"id":"r${i}","agent":"worker","deps":["r${(i + 1) % n}"]}`).join(',\n')}\n]}\n`);
    const problems = problemsOf(() => loadPlanFile(plan, new AgentRegistry([agents])));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.code).toBe('E_CYCLE');
    expect(problems[0]!.message).toBe(`dependency cycle: ${Array.from({ length: 10 }, (_, i) => `r${i}`).join(' -> ')} -> … (${n - 10} more) -> r0. Fix: remove one of these dependencies.`);
    expect(problems[0]!.line).toBe(2);
  });
});
