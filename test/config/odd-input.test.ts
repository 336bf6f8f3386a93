/**
 * What a new user (or a hostile file) may hand over: each is a clear input error with a stable code and a
 * position, never an internal error. YAML limits and plan size limits are input errors too.
 */
import { mkdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAgentSpec } from '../../src/config/agent-spec.js';
import { countPlanTasks } from '../../src/config/plan-count.js';
import { loadPlanFile } from '../../src/config/plan.js';
import { InputProblems } from '../../src/config/problems.js';
import { AgentRegistry } from '../../src/config/registry.js';
import { MAX_YAML_ALIAS_COUNT, MAX_YAML_DEPTH } from '../../src/config/yaml-file.js';
import { type ErrorCode, isInputError } from '../../src/errors.js';
import { cleanupTempDirs, FIXTURE_AGENTS, runCli, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

function agents(): string {
  const root = tempDir();
  mkdirSync(join(root, 'worker'));
  writeFileSync(join(root, 'worker', 'agent.yaml'), 'name: worker\nhandler: ./handler.js\n');
  writeFileSync(join(root, 'worker', 'handler.js'), 'export default async () => 1;\n');
  return root;
}
const AGENTS = agents();

function planAt(content: string | Buffer): string {
  const file = join(tempDir(), 'plan.yaml');
  writeFileSync(file, content);
  return file;
}

/** The error loading `file` as a plan throws: an input error with `code`, its first line matching `pattern`. */
function expectInputError(fn: () => unknown, code: ErrorCode, pattern: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isInputError(thrown), String((thrown as Error)?.stack ?? thrown)).toBe(true);
  expect((thrown as { code: string }).code).toBe(code);
  expect((thrown as Error).message).toMatch(pattern);
}

const loadPlan = (file: string, limits = {}) => () => loadPlanFile(file, new AgentRegistry([AGENTS]), limits);

describe('odd plan files', () => {
  it.each<[string, string | Buffer, ErrorCode, RegExp]>([
    ['an empty file', '', 'E_SCHEMA', /plan\.yaml:1:1: invalid plan: the file is empty/],
    ['only comments', '# todo\n', 'E_SCHEMA', /the file is empty/],
    ['a list instead of a map', '- id: a\n  agent: worker\n', 'E_SCHEMA', /plan\.yaml:1:1: invalid plan: expected a map of fields at the top level, got a list/],
    ['a bare word', 'hello\n', 'E_SCHEMA', /got a string \("hello"\)/],
    ['tabs for indentation', 'name: p\ntasks:\n\t- id: a\n\t  agent: worker\n', 'E_YAML_SYNTAX', /plan\.yaml:3:\d+: YAML syntax error in plan: .*[Tt]ab/],
    ['a duplicate key', 'name: p\nname: q\ntasks: [{ id: a, agent: worker }]\n', 'E_YAML_SYNTAX', /plan\.yaml:2:1: YAML syntax error in plan: Map keys must be unique/],
    ['two documents', 'name: p\ntasks: [{ id: a, agent: worker }]\n---\nname: q\n', 'E_YAML_SYNTAX', /plan\.yaml:3:\d+: YAML syntax error/],
    ['tasks as a map', 'name: p\ntasks:\n  a: { agent: worker }\n', 'E_SCHEMA', /plan\.yaml:3:3: invalid plan: field 'tasks': .*got \{"a"/],
    ['no tasks', 'name: p\ntasks: []\n', 'E_SCHEMA', /a plan needs at least one task/],
    ['a key with no value', 'name: p\ntasks:\n  - id: a\n    agent:\n', 'E_SCHEMA', /field 'tasks\.0\.agent': .*got null/],
    ['a number as an id', 'name: p\ntasks: [{ id: 7, agent: worker }]\n', 'E_SCHEMA', /plan\.yaml:2:15: invalid plan: field 'tasks\.0\.id'.*got 7/],
    ['a bad id', 'name: p\ntasks: [{ id: "a b", agent: worker }]\n', 'E_SCHEMA', /field 'tasks\.0\.id'.*must be 1-128 letters/],
    ['Latin-1 bytes', Buffer.concat([Buffer.from('name: caf'), Buffer.from([0xe9]), Buffer.from('\ntasks: [{ id: a, agent: worker }]\n')]), 'E_YAML_SYNTAX', /plan\.yaml:1:10: plan is not UTF-8 text \(byte 0xe9 at offset 9\)/],
  ])('%s', (_what, content, code, pattern) => {
    expectInputError(loadPlan(planAt(content)), code, pattern);
  });

  it('a directory where the plan file is expected', () => {
    expectInputError(loadPlan(tempDir()), 'E_FILE_NOT_FOUND', /is a directory, expected the plan file/);
  });

  it('a file where the agents directory is expected, and one agent\'s directory instead of their parent', () => {
    const file = planAt('name: p\n');
    expectInputError(() => new AgentRegistry([file]), 'E_FILE_NOT_FOUND', /is a file, not an agent directory/);
    expectInputError(() => new AgentRegistry([join(AGENTS, 'worker')]), 'E_FILE_NOT_FOUND', /this is one agent's directory .* Fix: pass /);
  });

  it('a UTF-8 byte-order mark is fine', () => {
    expect(loadPlan(planAt('\ufeffname: p\ntasks: [{ id: a, agent: worker }]\n'))().name).toBe('p');
  });
});

describe('odd agent.yaml files', () => {
  function agentFile(yaml: string, extra: (dir: string) => void = () => {}): string {
    const dir = join(tempDir(), 'odd');
    mkdirSync(dir);
    writeFileSync(join(dir, 'agent.yaml'), yaml);
    extra(dir);
    return join(dir, 'agent.yaml');
  }

  it('a handler path that does not exist, and one that is a directory', () => {
    expectInputError(() => loadAgentSpec(agentFile('name: odd\nhandler: ./lib/main.js\n'), 'odd'), 'E_MISSING_HANDLER', /agent\.yaml:2:10: handler file not found: '\.\/lib\/main\.js'/);
    expectInputError(() => loadAgentSpec(agentFile('name: odd\nhandler: ./lib\n', (d) => mkdirSync(join(d, 'lib'))), 'odd'), 'E_MISSING_HANDLER', /handler file is a directory/);
  });

  it('an agent.yaml that is a directory', () => {
    const root = tempDir();
    mkdirSync(join(root, 'odd', 'agent.yaml'), { recursive: true });
    expectInputError(() => new AgentRegistry([root]).get('odd'), 'E_FILE_NOT_FOUND', /agent\.yaml: is a directory, expected the agent\.yaml file/);
  });

  it('wrong types everywhere, all at once', () => {
    const file = agentFile('name: odd\nhandler: ./h.js\ntools: read\nsandbox: yes\ntoken_budget: 1.5\n', (d) => writeFileSync(join(d, 'h.js'), ''));
    let err: unknown;
    try {
      loadAgentSpec(file, 'odd');
    } catch (e) {
      err = e;
    }
    expect((err as InputProblems).problems.map((p) => p.line)).toEqual([3, 4, 5]);
    expect((err as Error).message).toMatch(/field 'tools'.*Fix: use a list/);
    expect((err as Error).message).toMatch(/field 'token_budget'.*got 1\.5.*Fix: use a whole number/);
  });
});

describe('YAML limits are bad input', () => {
  it('a "billion laughs" document is refused at its first alias', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const file = planAt(`${levels.join('\n')}\nname: p\ntasks: [{ id: a, agent: worker, input: *i }]\n`);
    expectInputError(loadPlan(file), 'E_YAML_LIMIT', new RegExp(`plan\\.yaml:2:\\d+: too many YAML aliases in plan: expanding them would exceed ${MAX_YAML_ALIAS_COUNT} nodes`));
  });

  it('one anchor reused by many tasks is fine (yaml refuses it from 101 by default)', () => {
    const tasks = Array.from({ length: 500 }, (_, i) => `  - { id: t${i}, agent: worker, input: ${i === 0 ? '&shared { retries: 1 }' : '*shared'} }`);
    const plan = loadPlan(planAt(`name: p\ntasks:\n${tasks.join('\n')}\n`))();
    expect(plan.tasks[499]!.input).toEqual({ retries: 1 });
  });

  it('nesting deeper than the limit', () => {
    const depth = MAX_YAML_DEPTH + 5;
    const file = planAt(`name: p\ntasks:\n  - id: a\n    agent: worker\n    input: ${'['.repeat(depth)}${']'.repeat(depth)}\n`);
    expectInputError(loadPlan(file), 'E_YAML_LIMIT', new RegExp(`plan\\.yaml:\\d+:\\d+: plan nests maps and lists more than ${MAX_YAML_DEPTH} levels deep`));
  });

  it('nesting far too deep to parse', () => {
    const depth = 100_000;
    const file = planAt(`name: p\ntasks:\n  - id: a\n    agent: worker\n    input: ${'['.repeat(depth)}${']'.repeat(depth)}\n`);
    let err: unknown;
    try {
      loadPlan(file)();
    } catch (e) {
      err = e;
    }
    expect(isInputError(err), String(err)).toBe(true);
    expect(['E_YAML_LIMIT', 'E_YAML_SYNTAX']).toContain((err as { code: string }).code);
  });
});

describe('plan size limits', () => {
  it('a file over the byte limit is refused before it is read', () => {
    const file = planAt('');
    truncateSync(file, 2 * 1024 * 1024 * 1024); // sparse 2 GiB: reading it would take long and fail
    expectInputError(loadPlan(file), 'E_TOO_LARGE', /plan is 2147483648 bytes, over the limit of 8388608\. Fix: split it, or raise the limit with --max-plan-bytes/);
    expectInputError(loadPlan(planAt('name: p\ntasks: [{ id: a, agent: worker }]\n'), { maxBytes: 10 }), 'E_TOO_LARGE', /over the limit of 10/);
  });

  it('more tasks than the limit is refused; at the limit the plan loads', () => {
    const file = planAt(`name: p\ntasks:\n${Array.from({ length: 30 }, (_, i) => `  - { id: t${i}, agent: worker }`).join('\n')}\n`);
    expectInputError(loadPlan(file, { maxTasks: 29 }), 'E_TOO_LARGE', /plan\.yaml:3:3: plan has 30 tasks, over the limit of 29\. Fix: .*--max-plan-tasks/);
    expect(loadPlan(file, { maxTasks: 30 })().tasks).toHaveLength(30);
  });
});

describe('the task count is checked before the parse', () => {
  it('a ~7 MiB plan over the task limit is refused with exit 2, naming the limit and the flag', async () => {
    const dir = tempDir();
    const plan = join(dir, 'big-plan.yaml');
    const lines = ['name: big', '# a comment before the list', 'tasks:'];
    // 110,000 tasks (over the default 100,000), each with a block scalar whose lines look like items
    // when read without indentation: only the items of `tasks:` count.
    for (let i = 0; i < 110_000; i++) lines.push(`  - id: t${i}`, '    agent: worker', i % 1000 === 0 ? '    input: |\n      - not a task\n      - nor this' : `    input: { n: ${i}, pad: "${'x'.repeat(6)}" }`);
    writeFileSync(plan, `${lines.join('\n')}\n`);
    expect(statSync(plan).size).toBeGreaterThan(6 * 1024 * 1024);
    expect(statSync(plan).size).toBeLessThan(8 * 1024 * 1024);
    const res = await runCli(['run', plan, '--agents', FIXTURE_AGENTS, '--runs-dir', join(dir, 'runs')]);
    expect(res.exitCode, res.all).toBe(2);
    expect(res.all).toMatch(/big-plan\.yaml:4:3: plan has 110000 tasks, over the limit of 100000\. Fix: split it, or raise the limit with --max-plan-tasks/);
  }, 60_000);

  it('the scan counts what the parser counts for block lists; other shapes are left to the parser', () => {
    const block = 'name: p\ntasks:\n- id: a\n  agent: w\n  deps:\n  - b\n- id: b\n  agent: w\n  input: |\n    - x\n# c\n\n- id: c\n  agent: w\nother: 1\n';
    expect(countPlanTasks(block)).toEqual({ count: 3, line: 3, col: 1 });
    expect(countPlanTasks('name: p\ntasks: [{ id: a, agent: w }]\n')).toBeUndefined();
    expect(countPlanTasks('name: p\ntasks: *all\n')).toBeUndefined();
    expect(countPlanTasks('name: p\ntasks:\n  id: a\n')).toBeUndefined();
    expect(countPlanTasks('name: p\r\ntasks:\r\n  - id: a\r\n    agent: w\r\n  -\r\n    id: b\r\n    agent: w\r\n')).toEqual({ count: 2, line: 3, col: 3 });
  });
});
