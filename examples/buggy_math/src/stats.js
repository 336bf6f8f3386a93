// Descriptive statistics over arrays of numbers.
import { sum } from './math.js';

export function mean(xs) {
  if (xs.length === 0) return 0;
  return sum(xs) / xs.length;
}

export function median(xs) {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid];
  // BUG: the two middle values must be added, not subtracted.
  return (sorted[mid - 1] - sorted[mid]) / 2;
}

export function variance(xs) {
  if (xs.length === 0) return 0;
  const m = mean(xs);
  return sum(xs.map((x) => (x - m) ** 2)) / xs.length;
}
