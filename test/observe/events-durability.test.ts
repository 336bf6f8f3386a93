/**
 * events.jsonl goes to the file as the run goes (bounded delay, src/observe/event-logger.ts): a SIGKILLed
 * kernel leaves every event written up to that delay before its death; only the last line may be torn.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, descendants, expectAllGone, FIXTURE_AGENTS, readEvents, startCli, waitFor, writePlan } from '../helpers.js';

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});
afterAll(cleanupTempDirs);

describe('events.jsonl of a SIGKILLed kernel', () => {
  it('holds every event up to the flush delay before the kill', async () => {
    const { dir, plan } = writePlan([
      { id: 'first', agent: 'ok_agent' },
      { id: 'long', agent: 'slow_agent', deps: ['first'], input: { ms: 60_000 } },
    ]);
    const runsDir = join(dir, 'runs');
    // No quota samples: a quiet run writes little, which an unbounded buffer would keep to itself.
    const sub = startCli(['run', plan, '--agents', FIXTURE_AGENTS, '--runs-dir', runsDir, '--sample-ms', '60000']);
    started.push(sub.pid!);
    let out = '';
    sub.all?.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(() => /running on slow_agent/.test(out), 30_000, 'the long task running');
    const runDir = join(runsDir, readdirSync(runsDir)[0]!);
    const running = (): boolean => readEvents(runDir).some((e) => e.type === 'task.state' && e.task === 'long' && e.state === 'running');
    // The bound is tens of ms; 5 s leaves room for a loaded machine, and an unflushed buffer never gets there.
    await waitFor(running, 5_000, 'the running event in events.jsonl');
    const seen = readEvents(runDir).length;
    const procs = descendants(sub.pid!);
    sub.kill('SIGKILL');
    const res = await sub;
    expect(res.signal).toBe('SIGKILL');
    // The reaper ends the agents and writes the lost kernel's report (and a last `kernel.lost` event).
    await waitFor(() => existsSync(join(runDir, 'report.json')), 15_000, 'the kernel_lost report');
    const lines = readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n');
    lines.pop(); // '' after the last newline, or a torn line: tolerated; every other line is whole
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.length).toBeGreaterThanOrEqual(seen);
    expect(events[0]).toMatchObject({ type: 'run.started' });
    expect(events.every((e) => typeof e.time === 'number' && (typeof e.t === 'number' || e.type === 'kernel.lost'))).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'kernel.lost', by: 'reaper' });
    expect(events.filter((e) => e.type === 'task.state' && e.task === 'first' && e.state === 'succeeded')).toHaveLength(1);
    expect(running()).toBe(true);
    await expectAllGone(procs, 15_000);
  });
});
