import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, readJson, ROOT, runCli, tempDir } from '../helpers.js';
import type { RunReport } from '../../src/observe/report.js';
import { outermost } from '../../src/process/sandbox.js';

afterAll(cleanupTempDirs);

function agent(dir: string, name: string, yaml: string, handler: string): void {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'agent.yaml'), `name: ${name}\nhandler: ./handler.js\ntimeout_ms: 10000\nretry: { max_attempts: 1 }\n${yaml}`);
  writeFileSync(join(dir, name, 'handler.js'), handler);
}

describe('tool sandbox (Node permission model from agent.yaml)', () => {
  it('fails writes outside the allowed paths, child processes and reads with kind sandbox, naming the access', async () => {
    const dir = tempDir();
    const allowed = join(dir, 'allowed');
    mkdirSync(allowed);
    const agents = join(dir, 'agents');
    agent(agents, 'writer', `sandbox:\n  fs_write: [${allowed}]\n`, `import { writeFileSync } from 'node:fs';\nexport default async (input) => { writeFileSync(input.path, 'x'); return { wrote: input.path }; };\n`);
    agent(agents, 'spawner', `sandbox:\n  child_process: false\n`, `import { spawnSync } from 'node:child_process';\nexport default async () => { const r = spawnSync('node', ['-e', '0']); return { status: r.status }; };\n`);
    agent(agents, 'reader', `sandbox:\n  fs_read: [${allowed}]\n`, `import { readFileSync } from 'node:fs';\nexport default async (input) => readFileSync(input.path, 'utf8').length;\n`);
    agent(agents, 'free_spawner', `sandbox:\n  child_process: true\n`, `import { spawnSync } from 'node:child_process';\nexport default async () => ({ status: spawnSync('node', ['-e', '0']).status });\n`);
    const outside = join(dir, 'outside.txt');
    const plan = join(dir, 'plan.yaml');
    writeFileSync(plan, [
      'name: sandbox',
      'tasks:',
      `  - { id: inside, agent: writer, input: { path: ${join(allowed, 'ok.txt')} } }`,
      `  - { id: outside, agent: writer, input: { path: ${outside} } }`,
      '  - { id: spawn, agent: spawner }',
      '  - { id: read, agent: reader, input: { path: /etc/hostname } }',
      '  - { id: spawn_ok, agent: free_spawner }',
    ].join('\n'));
    const reportFile = join(dir, 'report.json');
    const res = await runCli(['run', plan, '--agents', agents, '--runs-dir', join(dir, 'runs'), '--report', reportFile, '--quiet']);
    expect(res.exitCode, res.all).toBe(1);
    const report = readJson<RunReport>(reportFile);
    const task = (id: string) => report.tasks.find((t) => t.id === id)!;
    expect(task('inside').state).toBe('succeeded');
    expect(existsSync(join(allowed, 'ok.txt'))).toBe(true);
    expect(task('outside').failures.map((f) => f.kind)).toEqual(['sandbox']);
    expect(task('outside').failures[0]!.message).toContain('FileSystemWrite');
    expect(task('outside').failures[0]!.message).toContain(outside);
    expect(existsSync(outside)).toBe(false);
    expect(task('spawn').failures.map((f) => f.kind)).toEqual(['sandbox']);
    expect(task('spawn').failures[0]!.message).toContain('ChildProcess');
    expect(task('read').failures.map((f) => f.kind)).toEqual(['sandbox']);
    expect(task('read').failures[0]!.message).toContain('FileSystemRead');
    expect(task('spawn_ok').state).toBe('succeeded');
    await expectAllGone(report.agents.flatMap((a) => a.pids));
  });

  it('keeps the real report agent inside its output directory', async () => {
    const dir = tempDir();
    const elsewhere = join(dir, 'elsewhere');
    const plan = join(dir, 'plan.yaml');
    writeFileSync(plan, `name: escape\ntasks:\n  - { id: r, agent: report_agent, input: { mode: scan, out: ${elsewhere}, goal: x } }\n`);
    const reportFile = join(dir, 'report.json');
    const res = await runCli(['run', plan, '--runs-dir', join(dir, 'runs'), '--report', reportFile, '--quiet']);
    expect(res.exitCode, res.all).toBe(1);
    const r = readJson<RunReport>(reportFile).tasks[0]!;
    expect(r.failures.map((f) => f.kind)).toEqual(['sandbox']);
    expect(r.failures[0]!.message).toContain(elsewhere);
    expect(existsSync(elsewhere)).toBe(false);
  });

  it('declares the limits the issue asks for in the shipped agents', () => {
    const sb = (name: string) => (parse(readFileSync(join(ROOT, 'agents', name, 'agent.yaml'), 'utf8')) as { sandbox: { fs_write: string[]; child_process: boolean } }).sandbox;
    expect(sb('test_agent').child_process).toBe(true);
    // The differential check runs candidate copies in worker threads of the test agent.
    expect((sb('test_agent') as { worker_threads?: boolean }).worker_threads).toBe(true);
    for (const name of ['analyzer', 'report_agent']) {
      expect(sb(name).fs_write).toEqual(['$OUT']);
      expect(sb(name).child_process).toBe(false);
    }
    for (const name of ['planner', 'patch_agent', 'safe_patch_agent']) expect(sb(name).child_process).toBe(false);
  });

  it('grants only the outermost of nested paths (Node 20 denies a granted parent of a granted child)', () => {
    expect(outermost(['/a/data/repo', '/a/data', '/b', '/a/datastore/'])).toEqual(['/a/data', '/a/datastore', '/b']);
  });
});
