/** Bad input exits 2 before anything starts, naming the file and what is wrong. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/observe/report.js';
import { cleanupTempDirs, expectAllGone, FIXTURE_AGENTS, readJson, runCli, runPids, tempDir } from '../helpers.js';

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

describe('every problem at once, and limits, at the command line', () => {
  it('an agent.yaml and a plan with several mistakes: all of them, each at its own line, exit 2', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'sloppy'));
    writeFileSync(join(root, 'sloppy', 'agent.yaml'), 'name: sloppy\nhandler: ./handler.js\nkill_grace_ms: -1\nshape: round\ninstances: many\n');
    writeFileSync(join(root, 'sloppy', 'handler.js'), 'export default async () => 1;\n');
    const { dir, plan } = planFile('name: p\ntasks:\n  - id: a\n    agent: sloppy\n  - id: b\n    agent: sloppy\n    deps: [a, zzz]\n');
    const res = await runCli(['run', plan, '--agents', root, '--runs-dir', join(dir, 'runs')]);
    expect(res.exitCode, res.all).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/plan\.yaml:7:15: task 'b' depends on unknown task 'zzz'/);
    expect(lines[1]).toMatch(/sloppy\/agent\.yaml:3:16: invalid agent: field 'kill_grace_ms'.*got -1/);
    expect(lines[2]).toMatch(/sloppy\/agent\.yaml:4:1: invalid agent: unknown field 'shape'/);
    expect(lines[3]).toMatch(/sloppy\/agent\.yaml:5:12: invalid agent: field 'instances'.*got "many"/);
    expect(lines[4]).toBe('4 problems in 2 files; nothing was started.');
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('a YAML alias bomb is bad input (exit 2), not an internal error', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) levels.push(`l${i}: &l${i} [${Array(10).fill(i === 1 ? '*a' : `*l${i - 1}`).join(', ')}]`);
    const { dir, plan } = planFile(`${levels.join('\n')}\nname: p\ntasks:\n${ok('a', '    input: *l7\n')}`);
    await expectBadInput(['run', plan, '--agents', FIXTURE_AGENTS], dir, /plan\.yaml:2:\d+: too many YAML aliases in plan/);
  });

  it('--max-plan-tasks and --max-plan-bytes refuse a larger plan; at the limit it runs', async () => {
    const { dir, plan } = planFile(`name: p\ntasks:\n${ok('a')}${ok('b')}${ok('c')}`);
    await expectBadInput(['run', plan, '--agents', FIXTURE_AGENTS, '--max-plan-tasks', '2'], dir, /plan has 3 tasks, over the limit of 2\. Fix: split it, or raise the limit with --max-plan-tasks/);
    await expectBadInput(['run', plan, '--agents', FIXTURE_AGENTS, '--max-plan-bytes', '20'], dir, /plan is \d+ bytes, over the limit of 20\. .*--max-plan-bytes/);
    const report = join(dir, 'report.json');
    const res = await runCli(['run', plan, '--agents', FIXTURE_AGENTS, '--max-plan-tasks', '3', '--runs-dir', join(dir, 'runs'), '--report', report, '--quiet']);
    expect(res.exitCode, res.all).toBe(0);
    await expectAllGone(runPids(readJson<RunReport>(report)));
  });
});

describe('flag errors', () => {
  it.each([
    [['--concurrency', '0'], /--concurrency must be at least 1/],
    [['--concurrency', 'many'], /--concurrency takes a whole number/],
    [['--inject', 'ok_agent:explode'], /--inject 'ok_agent:explode': expected AGENT:FAULT\[@ATTEMPT\]/],
    [['--inject', 'ghost:crash@1'], /--inject names unknown agent 'ghost'/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--max-plan-tasks', '0'], /--max-plan-tasks must be at least 1/],
    [['--max-plan-bytes', 'lots'], /--max-plan-bytes takes a whole number/],
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
