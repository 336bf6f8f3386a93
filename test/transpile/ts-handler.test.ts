/**
 * TypeScript handlers without a build step, through a real `agentos run`: transpiled once per run into the
 * run directory, imported by real agent processes, stacks on .ts lines, syntax errors as bad input.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/observe/report.js';
import { prepareHandler } from '../../src/transpile/prepare.js';
import { cleanupTempDirs, expectAllGone, readEvents, runCli, runPids, tempDir, waitFor } from '../helpers.js';
import { HANDLER, THROW_LINE, writeTsAgent } from './ts-agent.js';

afterAll(cleanupTempDirs);

function plan(dir: string, tasks: string): string {
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, `name: ts\ntasks:\n${tasks}`);
  return file;
}

/** Pids of this process's children named esbuild (its service must not outlive a prepare). */
function esbuildChildren(): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && stat.includes('(esbuild)')) out.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('TypeScript handler', () => {
  it('runs with no build step: enum, interface, .ts/.js/JSON/package imports, ESM semantics, stack on .ts lines', async () => {
    const dir = tempDir();
    const agentDir = writeTsAgent(join(dir, 'agents'));
    const file = plan(dir, `  - id: ok\n    agent: ts_agent\n    input: { size: 3 }\n  - id: boom\n    agent: ts_agent\n    input: { size: 1, boom: true }\n`);
    const res = await runCli(['run', file, '--agents', join(dir, 'agents'), '--runs-dir', join(dir, 'runs'), '--json']);
    expect(res.exitCode, res.all).toBe(1); // 'boom' fails on purpose
    const report = JSON.parse(res.stdout) as RunReport;
    const ok = report.tasks.find((t) => t.id === 'ok')!;
    expect(ok.state).toBe('succeeded');
    expect(ok.output).toEqual({
      area: 9,
      greeting: 'hi', // read via new URL('./data.json', import.meta.url): import.meta.url names the .ts source
      helperUrl: `file://${agentDir}/helper.js`, // a .js import next to the handler keeps its own identity
      flavour: 'esm', // the bare package resolved from the agent's directory with the import condition
      url: `file://${agentDir}/handler.ts`,
      task: 'ok',
    });
    const boom = report.tasks.find((t) => t.id === 'boom')!;
    expect(boom.state).toBe('failed');
    expect(boom.failures[0]?.kind).toBe('exception');
    // The source map puts the throw on its .ts line.
    expect(boom.failures[0]?.stack).toMatch(new RegExp(`at handle \\(.*${agentDir}/handler\\.ts:${THROW_LINE}:\\d+\\)`));
    // Output lives in the run directory; the sources are untouched.
    const handlers = join(report.run_dir, 'handlers');
    const [out, rec, ...rest] = readdirSync(handlers).sort();
    expect([out, rec, rest]).toEqual([expect.stringMatching(/^ts_agent-[0-9a-f]{16}$/), 'ts_agent.json', []]);
    expect(readdirSync(agentDir).sort()).toEqual(['agent.yaml', 'data.json', 'handler.ts', 'helper.js', 'lib', 'node_modules']);
    await expectAllGone(runPids(report));
  });

  it('is transpiled once: a second prepare reads the cache record; a changed import makes a new output', async () => {
    const dir = tempDir();
    const agentDir = writeTsAgent(join(dir, 'agents'));
    const runDir = join(dir, 'run');
    const spec = { name: 'ts_agent', handlerPath: join(agentDir, 'handler.ts') };
    const entry = await prepareHandler(spec, runDir);
    // The transpiler's service process is ended once the work is done (esbuild's stop() signals it).
    await waitFor(() => esbuildChildren().length === 0, 5_000, 'the esbuild service to exit');
    const record = join(runDir, 'handlers', 'ts_agent.json');
    const before = { record: statSync(record).mtimeMs, entry: statSync(entry).mtimeMs };
    expect(await prepareHandler(spec, runDir)).toBe(entry);
    // Nothing was written the second time.
    expect({ record: statSync(record).mtimeMs, entry: statSync(entry).mtimeMs }).toEqual(before);
    // The cache key covers every imported .ts file, not only the handler.
    writeFileSync(join(agentDir, 'lib', 'shapes.ts'), readFileSync(join(agentDir, 'lib', 'shapes.ts'), 'utf8').replace('s.size * s.size', 's.size * s.size + 1'));
    const changed = await prepareHandler(spec, runDir);
    expect(changed).not.toBe(entry);
    const mod = (await import(changed)) as { default: (i: unknown, c: unknown) => Promise<{ area: number }> };
    expect((await mod.default({ size: 2 }, { task: { id: 't' } })).area).toBe(5);
    // A JavaScript handler passes through untouched, without touching the run directory.
    expect(await prepareHandler({ name: 'js', handlerPath: join(agentDir, 'helper.js') }, join(dir, 'none'))).toBe(join(agentDir, 'helper.js'));
    expect(() => statSync(join(dir, 'none'))).toThrow();
  });

  it('a syntax error is bad input: exit 2 naming file:line:col for every agent at once, no process started, no run begun', async () => {
    const dir = tempDir();
    const brokenEntry = writeTsAgent(join(dir, 'agents'), 'ts_agent', HANDLER.replace('const s: Shape =', 'const s: Shape = = '));
    const brokenImport = writeTsAgent(join(dir, 'agents'), 'ts_dep');
    writeFileSync(join(brokenImport, 'lib', 'shapes.ts'), 'export enum Kind { Square = }\n');
    const file = plan(dir, `  - id: a\n    agent: ts_agent\n  - id: b\n    agent: ts_dep\n`);
    const res = await runCli(['run', file, '--agents', join(dir, 'agents'), '--runs-dir', join(dir, 'runs')]);
    expect(res.exitCode, res.all).toBe(2);
    expect(res.stderr).toMatch(new RegExp(`${brokenEntry}/handler\\.ts:12:20: TypeScript syntax error: .*Fix:`));
    // An imported file's error names that file.
    expect(res.stderr).toMatch(new RegExp(`${brokenImport}/lib/shapes\\.ts:1:\\d+: TypeScript syntax error`));
    const [runId] = readdirSync(join(dir, 'runs'));
    const events = readEvents(join(dir, 'runs', runId!));
    expect(events.filter((e) => e.type === 'run.started' || e.type === 'process.starting')).toEqual([]);
  });

  it('a missing relative import is named at its line before the run starts', async () => {
    const dir = tempDir();
    writeTsAgent(join(dir, 'agents'), 'ts_agent', `import { nope } from './missing.js';\nexport default async () => nope;\n`);
    const res = await runCli(['run', plan(dir, `  - id: a\n    agent: ts_agent\n`), '--agents', join(dir, 'agents'), '--runs-dir', join(dir, 'runs')]);
    expect(res.exitCode, res.all).toBe(2);
    expect(res.stderr).toMatch(/handler\.ts:1:\d+: import '\.\/missing\.js' not found/);
  });

  it('agent.yaml: .cts/.tsx handlers and a runtime that contradicts the handler are schema errors', async () => {
    const dir = tempDir();
    const agentDir = writeTsAgent(join(dir, 'agents'));
    writeFileSync(join(agentDir, 'handler.cts'), 'module.exports = async () => 1;\n');
    writeFileSync(join(agentDir, 'agent.yaml'), 'name: ts_agent\nhandler: ./handler.cts\n');
    const file = plan(dir, `  - id: a\n    agent: ts_agent\n`);
    let res = await runCli(['run', file, '--agents', join(dir, 'agents'), '--runs-dir', join(dir, 'runs')]);
    expect(res.exitCode, res.all).toBe(2);
    expect(res.stderr).toMatch(/agent\.yaml:2:\d+: handler '\.\/handler\.cts' is CommonJS TypeScript or JSX.*Fix: use an ES module/);
    writeFileSync(join(agentDir, 'agent.yaml'), 'name: ts_agent\nhandler: ./handler.ts\nruntime: python\n');
    res = await runCli(['run', file, '--agents', join(dir, 'agents'), '--runs-dir', join(dir, 'runs')]);
    expect(res.exitCode, res.all).toBe(2);
    expect(res.stderr).toMatch(/agent\.yaml:3:\d+: handler '\.\/handler\.ts' is a node module but 'runtime' is python/);
  });
});
