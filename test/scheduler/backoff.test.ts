import { describe, expect, it } from 'vitest';
import { backoffs, retryDelay } from '../../src/scheduler/backoff.js';

describe('retry backoff', () => {
  const policy = { backoff_ms: 100, max_backoff_ms: 1_000 };

  it('doubles per retry, between half and all of the ceiling', () => {
    for (const [retry, ceiling] of [[1, 100], [2, 200], [3, 400], [4, 800]] as const) {
      expect(retryDelay(policy, retry, () => 0)).toBe(ceiling / 2);
      expect(retryDelay(policy, retry, () => 1)).toBe(ceiling);
      const d = retryDelay(policy, retry);
      expect(d).toBeGreaterThanOrEqual(ceiling / 2);
      expect(d).toBeLessThanOrEqual(ceiling);
    }
  });

  it('never exceeds the cap', () => {
    expect(retryDelay(policy, 10, () => 1)).toBe(1_000);
    expect(retryDelay(policy, 50, () => 0.5)).toBe(750);
  });

  it('zero base means retry at once', () => {
    expect(retryDelay({ backoff_ms: 0, max_backoff_ms: 1_000 }, 3, () => 1)).toBe(0);
  });

  it('the strategy table is pure', () => {
    expect(backoffs.fixed(50, 7, 1_000, Math.random)).toBe(50);
    expect(backoffs.exponential(50, 3, 1_000, Math.random)).toBe(200);
  });
});
