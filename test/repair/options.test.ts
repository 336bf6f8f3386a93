/**
 * The repair command line: `--max-candidates` is `auto` unless a number caps it, bad values are a clear
 * E_USAGE (exit 2), `--apply-plausible` is its own flag; and the differential check's time limit shrinks
 * with what is left of the run's two minutes.
 */
import { describe, expect, it } from 'vitest';
import { parseRepairOptions } from '../../src/cli/goal-options.js';
import { probeLimit } from '../../src/repair/vet.js';

describe('agentos repair options', () => {
  it('--max-candidates: auto by default, a number caps the single edits, anything else is refused', () => {
    expect(parseRepairOptions(['r']).maxCandidates).toBe('auto');
    expect(parseRepairOptions(['r', '--max-candidates', 'auto']).maxCandidates).toBe('auto');
    expect(parseRepairOptions(['r', '--max-candidates', '50']).maxCandidates).toBe(50);
    for (const bad of ['0', 'lots', '2.5']) {
      let err: unknown;
      try {
        parseRepairOptions(['r', '--max-candidates', bad]);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'E_USAGE' });
      expect((err as Error).message).toMatch(/--max-candidates/);
    }
  });

  it('--apply applies a confirmed fix only; --apply-plausible is separate', () => {
    expect(parseRepairOptions(['r', '--apply'])).toMatchObject({ apply: true, applyPlausible: false });
    expect(parseRepairOptions(['r', '--apply-plausible'])).toMatchObject({ apply: false, applyPlausible: true });
  });
});

describe('the differential check keeps the run under two minutes', () => {
  it('gets what is left of the run, within 8 s to 25 s', () => {
    const t = 1_000_000;
    expect(probeLimit(undefined, t)).toBe(25_000);
    expect(probeLimit(t, t + 30_000)).toBe(25_000);
    expect(probeLimit(t, t + 95_000)).toBe(13_000);
    expect(probeLimit(t, t + 115_000)).toBe(8_000);
  });
});
