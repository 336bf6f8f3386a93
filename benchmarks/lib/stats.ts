/** Small statistics helpers shared by the benchmarks. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const median = (v: readonly number[]): number | null => percentile(v, 50);

export const mean = (v: readonly number[]): number | null => (v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length);

export function round(n: number | null, d = 2): number | null {
  return n === null ? null : Math.round(n * 10 ** d) / 10 ** d;
}

export const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null || b === 0 ? null : round(a / b, 2));
