/**
 * Retry delays as a small table of pure strategies (after BullMQ's Backoffs). `retry` in agent.yaml uses
 * `exponentialJitter`: the n-th retry waits between half and all of min(cap, base * 2^(n-1)).
 */
export type Random = () => number;

export const backoffs = {
  fixed: (base: number, _retry: number, _cap: number, _rnd: Random): number => base,
  exponential: (base: number, retry: number, cap: number, _rnd: Random): number => Math.min(cap, base * 2 ** (retry - 1)),
  exponentialJitter: (base: number, retry: number, cap: number, rnd: Random): number => {
    const ceiling = Math.min(cap, base * 2 ** (retry - 1));
    return Math.round(ceiling / 2 + rnd() * (ceiling / 2));
  },
} as const;

/** Delay before retry number `retry` (1 = the first retry, i.e. the second attempt). */
export function retryDelay(policy: { backoff_ms: number; max_backoff_ms: number }, retry: number, rnd: Random = Math.random): number {
  return backoffs.exponentialJitter(policy.backoff_ms, retry, policy.max_backoff_ms, rnd);
}
