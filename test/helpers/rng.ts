export type Rng = () => number;

/** Deterministic PRNG (mulberry32) so that failures reproduce from their seed. */
export function rng(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws a token from a row of logits, as a model's own text would. */
export function sample(row: Float32Array, r: Rng): number {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  let u = r() * sum;
  for (let i = 0; i < row.length; i++) {
    u -= Math.exp((row[i] as number) - max);
    if (u <= 0) return i;
  }
  return row.length - 1;
}
