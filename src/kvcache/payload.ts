/**
 * The per-token KV payload written into pages. With no model attached the kernel writes synthetic
 * vectors: a deterministic function of (token, position), so two sequences that hold the same tokens at
 * the same positions hold byte-identical pages (which is what makes prefix sharing correct) and a test can
 * check any slot's bytes against a recomputation.
 */

/** Bytes one token occupies in a page: a K and a V vector of `width` float32 values. */
export function bytesPerToken(width: number): number {
  return 2 * width * 4;
}

/** Fill one token slot (K then V, `2 * width` floats) of `view` starting at float index `at`. */
export function writeSynthetic(view: Float32Array, at: number, width: number, token: number, position: number): void {
  // A cheap integer mix; exact in float32 because the values are small fractions of 2^16.
  let x = (Math.imul(token + 1, 0x9e3779b1) ^ Math.imul(position + 1, 0x85ebca6b)) >>> 0;
  for (let j = 0; j < 2 * width; j++) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + j) >>> 0;
    view[at + j] = (x & 0xffff) / 65536;
  }
}

/** The float a synthetic slot holds at index j (for checks without a page). */
export function syntheticSlot(width: number, token: number, position: number): Float32Array {
  const out = new Float32Array(2 * width);
  writeSynthetic(out, 0, width, token, position);
  return out;
}
