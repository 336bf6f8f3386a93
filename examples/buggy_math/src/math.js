// Small numeric helpers. Correct as they are.

export function clamp(x, lo, hi) {
  if (x < lo) return lo;
  if (x > hi) return hi;
  return x;
}

export function range(n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(i);
  return out;
}

export function sum(xs) {
  let total = 0;
  for (const x of xs) total += x;
  return total;
}
