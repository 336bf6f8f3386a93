/**
 * A Python agent seen from outside, like a Node one (issue 13): `agentos ps` lists it by name with its
 * state and task, `ps` shows its process title (set by the kernel through argv0), and the dashboard's
 * state has its process. Skipped with a notice when python3 is absent (failing under AGENTOS_REQUIRE_OPTIONAL).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlReply } from '../../src/control/protocol.js';
import type { ViewState } from '../../src/dashboard/view-types.js';
import { PYTHON3 } from '../../src/platform/tools.js';
import { ROOT, cleanupTempDirs, expectAllGone, runCli, tempDir, waitFor } from '../helpers.js';
import { startWatched } from '../observe/live.js';
import { optionalTool } from '../optional.js';

const PY = optionalTool(PYTHON3);
const PY_AGENTS = join(ROOT, 'test/fixtures/py-agents');

let runtime: string;
beforeAll(() => {
  runtime = tempDir('agentos-rt-');
  process.env.AGENTOS_RUNTIME_DIR = runtime;
});
afterAll(() => {
  delete process.env.AGENTOS_RUNTIME_DIR;
  cleanupTempDirs();
});

describe.skipIf(!PY)('a Python agent in agentos ps and the dashboard', () => {
  it('is listed by name, titled by the kernel, and in the dashboard state; all gone after the run', async () => {
    const dir = tempDir();
    const gate = join(dir, 'gate');
    const plan = join(dir, 'plan.yaml');
    writeFileSync(plan, `name: py-watch\ntasks:\n  - { id: hold, agent: py_gate, input: { gate: ${JSON.stringify(gate)} } }\n`);
    const cli = startWatched(['run', plan, '--agents', PY_AGENTS, '--runs-dir', join(dir, 'runs'), '--dashboard', '0']);
    try {
      const url = new URL((await cli.waitLine(/^dashboard: (http:\/\/127\.0\.0\.1:\d+\/\S*)$/))[1]!);
      let mine: Extract<ControlReply, { ok: true }> | undefined;
      // poll agentos ps (each call is one CLI start) until the agent holds its task; bounded
      for (let i = 0; i < 100 && !mine; i++) {
        const res = await runCli(['ps', '--json']);
        const kernels = JSON.parse(res.stdout) as Array<Extract<ControlReply, { ok: true }>>;
        mine = kernels.find((k) => k.kernel.kernel_pid === cli.proc.pid && k.processes.some((p) => p.agent === 'py_gate' && p.state === 'busy'));
      }
      expect(mine, 'agentos ps --json lists the busy Python agent').toBeDefined();
      const proc = mine!.processes.find((p) => p.agent === 'py_gate')!;
      expect(proc).toMatchObject({ state: 'busy', task: 'hold', instance: 1 });
      const text = await runCli(['ps']);
      expect(text.stdout).toMatch(new RegExp(`${mine!.kernel.run_id}\\s+${proc.pid}\\s+py_gate#1\\s+busy\\s+hold`));
      const title = await execa('ps', ['-o', 'args=', '-p', String(proc.pid)]);
      expect(title.stdout.trim()).toMatch(new RegExp(`^agentos-agent py_gate#1 run=${mine!.kernel.run_id}`));
      const token = url.searchParams.get('token') ?? '';
      const state = (await (await fetch(new URL(`/api/state?token=${encodeURIComponent(token)}`, url))).json()) as ViewState;
      expect(state.procs.find((p) => p.pid === proc.pid)).toMatchObject({ agent: 'py_gate', state: 'busy' });
      writeFileSync(gate, '');
      await waitFor(() => cli.lines.some((l) => /SUCCEEDED|succeeded/.test(l)), 60_000, 'the run to finish');
      await expectAllGone([proc.pid]);
    } finally {
      cli.proc.kill('SIGINT');
      await cli.proc;
    }
  }, 120_000);
});
