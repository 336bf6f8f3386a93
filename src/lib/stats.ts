/** Small numeric helpers shared by the bus, the metrics and the stress report. */

/** The p-th percentile (0-100, nearest rank) of an ascending array; null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Rounded to 3 decimals (µs precision for ms figures); null stays null. */
export function round3(n: number | null): number | null {
  return n === null ? null : Math.round(n * 1000) / 1000;
}
