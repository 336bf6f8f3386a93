/**
 * Goal runs and repair runs survive a killed kernel: `agentos run --goal` and `agentos repair --apply`
 * are SIGKILLed mid-run (real processes), the reaper ends their agents, and `agentos resume` completes
 * them as the first kernel would have: the report in --out (valid, from the journal, with the resume in
 * its history), the outcome printed, and --apply (kept in the journal's header) honoured.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { readJournalFile } from '../../src/journal/reader.js';
import type { RunReport } from '../../src/observe/report.js';
import { ROOT, cleanupTempDirs, descendants, expectAllGone, readJson, runCli, runPids, startCli, tempDir, waitFor } from '../helpers.js';
import { boundsRepo, writeRepo } from '../repair/repos.js';

afterEach(() => cleanupTempDirs());

const journalText = (runs: string): string => {
  if (!existsSync(runs)) return '';
  const id = readdirSync(runs)[0];
  const file = id ? join(runs, id, 'journal.jsonl') : '';
  return file && existsSync(file) ? readFileSync(file, 'utf8') : '';
};

/** Start the command, SIGKILL it once its journal matches `when`, wait until every process it had is gone. */
async function killMidRun(args: string[], runs: string, when: RegExp): Promise<string> {
  const run = startCli(args);
  let kids: number[] = [];
  try {
    await waitFor(() => when.test(journalText(runs)), 60_000, `the journal to match ${when}`);
    kids = descendants(run.pid!);
  } finally {
    run.kill('SIGKILL');
  }
  const res = await run;
  expect(res.signal, 'the run was still going when it was killed').toBe('SIGKILL');
  // The reaper ends every agent once the kernel's channel closes.
  await expectAllGone(kids, 15_000);
  return join(runs, readdirSync(runs)[0]!);
}

function checkReport(report: RunReport, runDir: string): void {
  expect(report).toMatchObject({ status: 'succeeded', source: 'journal' });
  expect(report.resumed).toHaveLength(1);
  expect(report.tasks.every((t) => t.state === 'succeeded' || t.state === 'skipped')).toBe(true);
  // One record of the whole run: every task of the journal is in the report.
  const added = readJournalFile(join(runDir, 'journal.jsonl')).facts.filter((f) => f.type === 'task.added').length;
  expect(report.tasks).toHaveLength(added);
}

describe('agentos resume of goal and repair runs', () => {
  it('a repair --apply killed mid-search is resumed: the fix is found, applied to the repo, the report is in --out', async () => {
    const repo = writeRepo(tempDir('agentos-bounds-'), boundsRepo);
    const dir = tempDir();
    const out = join(dir, 'out');
    const runs = join(dir, 'runs');
    const runDir = await killMidRun(['repair', repo, '--out', out, '--runs-dir', runs, '--apply', '--quiet'], runs, /"type":"attempt\.started","task":"patch"/);
    const header = readJournalFile(join(runDir, 'journal.jsonl')).facts[0]!;
    expect(header).toMatchObject({ type: 'run.header', options: { apply: true, out, repair: { kind: 'repair', repo } } });
    expect(readFileSync(join(repo, 'lib/window.js'), 'utf8')).toContain('x < hi'); // not applied yet

    const res = await runCli(['resume', runDir], { timeoutMs: 120_000 });
    expect(res.exitCode, res.all).toBe(0);
    expect(res.stdout).toContain('FIXED');
    expect(res.stdout).toContain(`applied to ${repo}`);
    expect(readFileSync(join(repo, 'lib/window.js'), 'utf8')).toContain('return x >= lo && x <= hi;');
    expect((await execa('node', ['--test'], { cwd: repo, reject: false })).exitCode).toBe(0);
    const report = readJson<RunReport>(join(out, 'run-report.json'));
    checkReport(report, runDir);
    // The search was in flight at the kill: run again, the lost attempt recorded as interrupted.
    expect(report.tasks.find((t) => t.id === 'patch')!.failures.map((f) => f.kind)).toContain('interrupted');
    expect(readJson<RunReport>(join(runDir, 'report.json')).run_id).toBe(report.run_id);
    expect(readFileSync(join(out, 'patch.diff'), 'utf8')).toContain('+  return x >= lo && x <= hi;');
    await expectAllGone(runPids(report));
  }, 180_000);

  it('a run --goal (report) killed mid-run is resumed to its report in --out, printed as the first kernel would', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const runs = join(dir, 'runs');
    const runDir = await killMidRun(['run', '--goal', `report on ${join(ROOT, 'examples/buggy_math')}`, '--out', out, '--runs-dir', runs, '--quiet'], runs, /"type":"attempt\.started","task":"(scan|tests)"/);
    expect(readJournalFile(join(runDir, 'journal.jsonl')).facts[0]).toMatchObject({ options: { goal: `report on ${join(ROOT, 'examples/buggy_math')}`, out, apply: false } });

    const res = await runCli(['resume', runDir], { timeoutMs: 120_000 });
    expect(res.exitCode, res.all).toBe(0);
    expect(res.stdout).toMatch(/test suite: FAILS \(6 passed, 1 failed/);
    const report = readJson<RunReport>(join(out, 'run-report.json'));
    checkReport(report, runDir);
    expect(existsSync(join(out, 'report.md'))).toBe(true);
    await expectAllGone(runPids(report));

    const again = await runCli(['resume', runDir]);
    expect(again.exitCode).toBe(2);
  }, 180_000);
});
