/** Bad input exits 2 before anything starts, naming the file and what is wrong. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, FIXTURE_AGENTS, runCli, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

function planFile(text: string): { dir: string; plan: string } {
  const dir = tempDir();
  const plan = join(dir, 'plan.yaml');
  writeFileSync(plan, text);
  return { dir, plan };
}

async function expectBadInput(args: string[], dir: string, pattern: RegExp): Promise<void> {
  const res = await runCli([...args, '--runs-dir', join(dir, 'runs')]);
  expect(res.exitCode, res.all).toBe(2);
  expect(res.stderr).toMatch(pattern);
  expect(res.stdout).toBe('');
  // nothing started: no run directory was made
  expect(existsSync(join(dir, 'runs'))).toBe(false);
}

const ok = (id: string, extra = ''): string => `  - id: ${id}\n    agent: ok_agent\n${extra}`;

describe('plan errors', () => {
  it('YAML syntax, with the line', async () => {
    const { dir, plan } = planFile(`name: p\ntasks:\n  - id: a\n    agent: [ok_agent\n`);
    await expectBadInput(['run', plan, '--agents', FIXTURE_AGENTS], dir, /plan\.yaml:\d+:\d+: YAML syntax error in plan: .*Fix: correct the YAML at line \d+/);
  });

  it('schema: names the field and the value', async () => {
    const { dir, plan } = planFile(`name: p\ntasks:\n  - id: a\n    agent: ok_agent\n    deps: nope\n`);
    await expectBadInput(['run', plan, '--agents', FIXTURE_AGENTS], dir, /plan\.yaml:5:11: invalid plan: field 'tasks\.0\.deps'.*got "nope"/);
  });

  it('schema: unknown keys are errors', async () => {
    const { dir, plan } = planFile(`name: p\ntasks:\n  - id: a\n    agnet: ok_agent\n`);
    await expectBadInput(['run', plan, '--agents', FIXTURE_AGENTS], dir, /plan\.yaml:4:5: invalid plan: unknown field 'agnet'/);
  });

  it('unknown agent, listing the known ones', async () => {
    const { dir, plan } = planFile(`name: p\ntasks:\n  - id: a\n    agent: nobody\n`);
    await expectBadInput(['run', plan, '--agents', FIXTURE_AGENTS], dir, /plan\.yaml:4:12: task 'a' names unknown agent 'nobody' \(known: .*ok_agent/);
  });

  it('unknown dependency', async () => {
    const { dir, plan } = planFile(`name: p\ntasks:\n${ok('a', '    deps: [ghost]\n')}`);
    await expectBadInput(['run', plan, '--agents', FIXTURE_AGENTS], dir, /task 'a' depends on unknown task 'ghost'/);
  });

  it('duplicate task id', async () => {
    const { dir, plan } = planFile(`name: p\ntasks:\n${ok('a')}${ok('a')}`);
    await expectBadInput(['run', plan, '--agents', FIXTURE_AGENTS], dir, /plan\.yaml:5:9: duplicate task id 'a'/);
  });

  it('cycle, listing its tasks', async () => {
    const { dir, plan } = planFile(`name: p\ntasks:\n${ok('a', '    deps: [c]\n')}${ok('b', '    deps: [a]\n')}${ok('c', '    deps: [b]\n')}`);
    await expectBadInput(['run', plan, '--agents', FIXTURE_AGENTS], dir, /dependency cycle: (a -> c -> b -> a|[abc] -> [abc] -> [abc] -> [abc])/);
  });

  it('missing plan file', async () => {
    const dir = tempDir();
    await expectBadInput(['run', join(dir, 'nope.yaml')], dir, /nope\.yaml: cannot read plan \(ENOENT\)/);
  });
});

describe('agent.yaml errors', () => {
  function agentDir(name: string, yaml: string, handler = true): string {
    const root = tempDir();
    mkdirSync(join(root, name));
    writeFileSync(join(root, name, 'agent.yaml'), yaml);
    if (handler) writeFileSync(join(root, name, 'handler.js'), 'export default async () => 1;\n');
    return root;
  }

  it('missing handler file', async () => {
    const agents = agentDir('lost', 'name: lost\nhandler: ./gone.js\n', false);
    const { dir, plan } = planFile('name: p\ntasks:\n  - id: a\n    agent: lost\n');
    await expectBadInput(['run', plan, '--agents', agents], dir, /lost\/agent\.yaml:2:10: handler file not found: '\.\/gone\.js'/);
  });

  it('a field of the wrong type, with line and value', async () => {
    const agents = agentDir('typo', 'name: typo\nhandler: ./handler.js\nretry:\n  max_attempts: three\n');
    const { dir, plan } = planFile('name: p\ntasks:\n  - id: a\n    agent: typo\n');
    await expectBadInput(['run', plan, '--agents', agents], dir, /typo\/agent\.yaml:4:17: invalid agent: field 'retry\.max_attempts'.*got "three"/);
  });

  it('an unknown key', async () => {
    const agents = agentDir('extra', 'name: extra\nhandler: ./handler.js\ntimeout: 5\n');
    const { dir, plan } = planFile('name: p\ntasks:\n  - id: a\n    agent: extra\n');
    await expectBadInput(['run', plan, '--agents', agents], dir, /extra\/agent\.yaml:3:1: invalid agent: unknown field 'timeout'/);
  });

  it('a fallback that does not exist', async () => {
    const agents = agentDir('leaning', 'name: leaning\nhandler: ./handler.js\nfallback: nobody\n');
    const { dir, plan } = planFile('name: p\ntasks:\n  - id: a\n    agent: leaning\n');
    await expectBadInput(['run', plan, '--agents', agents], dir, /fallback agent 'nobody' not found/);
  });

  it('a missing agent directory', async () => {
    const { dir, plan } = planFile(`name: p\ntasks:\n${ok('a')}`);
    await expectBadInput(['run', plan, '--agents', join(dir, 'nowhere')], dir, /nowhere: agent directory not found/);
  });
});

describe('flag errors', () => {
  it.each([
    [['--concurrency', '0'], /--concurrency must be at least 1/],
    [['--concurrency', 'many'], /--concurrency takes a whole number/],
    [['--inject', 'ok_agent:explode'], /--inject 'ok_agent:explode': expected AGENT:FAULT\[@ATTEMPT\]/],
    [['--inject', 'ghost:crash@1'], /--inject names unknown agent 'ghost'/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('%j', async (flags, pattern) => {
    const { dir, plan } = planFile(`name: p\ntasks:\n${ok('a')}`);
    await expectBadInput(['run', plan, '--agents', FIXTURE_AGENTS, ...flags], dir, pattern);
  });

  it('an unknown command', async () => {
    const res = await runCli(['fly']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/unknown command 'fly'/);
  });
});
