/**
 * Result sizes and the report: an output over the agent's max_output_mb fails as invalid_output in the
 * agent; big outputs under it are stored in <run_dir>/outputs/ and referenced from report.json, so the
 * report is always written (and --json prints it).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, runFixturePlan, runPids } from '../helpers.js';

afterAll(cleanupTempDirs);

describe('big outputs never cost the report', () => {
  it('outputs over 1 MiB are stored beside the report; over max_output_mb they are invalid_output', async () => {
    const { res, report } = await runFixturePlan(
      [
        { id: 'small', agent: 'big_output_agent', input: { mb: 0 } },
        { id: 'big1', agent: 'big_output_agent', input: { mb: 24 } },
        { id: 'big2', agent: 'big_output_agent', input: { mb: 24 } },
        { id: 'huge', agent: 'big_output_agent', input: { mb: 80 } },
      ],
      ['--json'],
    );
    expect(report, res.all).toBeDefined();
    const t = (id: string) => report!.tasks.find((x) => x.id === id)!;
    expect(t('small').output).toBe('');
    for (const id of ['big1', 'big2']) {
      expect(t(id).state).toBe('succeeded');
      const ref = t(id).output as { $output_file: string; bytes: number };
      expect(ref).toEqual({ $output_file: `outputs/${id}.json`, bytes: 24 * 1024 * 1024 + 2 });
      expect(statSync(join(report!.run_dir, ref.$output_file)).size).toBe(ref.bytes);
    }
    expect(t('huge').failures.map((f) => f.kind)).toEqual(['invalid_output']);
    expect(t('huge').failures[0]!.message).toMatch(/over the 64\.0 MiB limit \(agent\.yaml max_output_mb\)/);
    // the report stays small, and --json printed the same report
    expect(statSync(join(report!.run_dir, 'report.json')).size).toBeLessThan(200_000);
    expect(JSON.parse(res.stdout)).toEqual(JSON.parse(readFileSync(join(report!.run_dir, 'report.json'), 'utf8')));
    await expectAllGone(runPids(report!));
  }, 120_000);
});
